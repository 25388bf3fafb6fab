//! S3's payload rules, checked once the signature is verified: the body must be what
//! `x-amz-content-sha256` declared.
//!
//! * a hex SHA-256 digest: the body's digest must be that (`XAmzContentSHA256Mismatch`);
//! * `UNSIGNED-PAYLOAD`: the body is taken as sent;
//! * `STREAMING-UNSIGNED-PAYLOAD-TRAILER` (botocore over HTTPS, the SDKs): an aws-chunked body
//!   whose trailer carries a checksum (`x-amz-checksum-crc32`), which S3's PutObject verifies;
//! * `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`: an aws-chunked body whose every chunk is
//!   signed, each signature chained to the previous one from the request's own signature, and
//!   for `-TRAILER` the trailers signed as well (`SignatureDoesNotMatch` when one is wrong).
//!
//! Streaming bodies must give `x-amz-decoded-content-length` (`MissingContentLength`, 411) and
//! decode to that many bytes (`IncompleteBody`). The codes and messages are S3's (S3 API
//! reference, error codes; the wording as S3-compatible gateways that mirror S3 return it).
//! Not checked: S3's rule that every chunk but the last holds at least 8 KiB
//! (`InvalidChunkSizeError`), and ECDSA (SigV4a) streaming, whose requests wana does not
//! authenticate.

use chrono::NaiveDateTime;
use sha2::{Digest, Sha256};

use super::{header, SignatureHeader, SignedRequest};
use crate::{error::AwsError, protocol::aws_chunked, state::World};

/// The body S3 stores and the trailing headers that came with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Payload {
    pub body: Vec<u8>,
    /// Trailing headers (names lower-cased): a flexible checksum sent after the body.
    pub trailers: Vec<(String, String)>,
}

const UNSIGNED: &str = "UNSIGNED-PAYLOAD";
const STREAMING_UNSIGNED_TRAILER: &str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER";
const STREAMING_SIGNED: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";
const STREAMING_SIGNED_TRAILER: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER";
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The trailing headers S3 accepts: the flexible checksums.
const CHECKSUM_TRAILERS: [&str; 5] = [
    "x-amz-checksum-crc32",
    "x-amz-checksum-crc32c",
    "x-amz-checksum-crc64nvme",
    "x-amz-checksum-sha1",
    "x-amz-checksum-sha256",
];

fn invalid_argument() -> AwsError {
    AwsError::new(
        "InvalidArgument",
        400,
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD, STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER or a valid sha256 value.",
    )
}

fn signature_mismatch() -> AwsError {
    super::AuthFailure::SignatureMismatch.to_aws_error(crate::protocol::Protocol::RestXml)
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Verifies the payload of an authenticated S3 request and decodes it.
pub fn s3_payload(world: &World, request: &SignedRequest<'_>, auth: &SignatureHeader) -> Result<S3Payload, AwsError> {
    let declared = header(request.headers, "x-amz-content-sha256").ok_or_else(|| {
        AwsError::new("InvalidRequest", 400, "Missing required header for this request: x-amz-content-sha256")
    })?;
    match declared {
        UNSIGNED => Ok(S3Payload { body: request.body.to_vec(), trailers: Vec::new() }),
        STREAMING_UNSIGNED_TRAILER => streaming(request, None),
        STREAMING_SIGNED | STREAMING_SIGNED_TRAILER => {
            let secret = world
                .access_keys
                .get(&auth.access_key_id)
                .map(|key| key.secret.as_str())
                .ok_or_else(signature_mismatch)?;
            let signing = ChunkSigning::new(request, auth, secret, declared == STREAMING_SIGNED_TRAILER)?;
            streaming(request, Some(signing))
        }
        hash if hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            if sha256_hex(request.body).eq_ignore_ascii_case(hash) {
                Ok(S3Payload { body: request.body.to_vec(), trailers: Vec::new() })
            } else {
                Err(AwsError::new(
                    "XAmzContentSHA256Mismatch",
                    400,
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                ))
            }
        }
        _ => Err(invalid_argument()),
    }
}

/// What verifying chunk signatures needs: the signing key of the request's scope.
struct ChunkSigning {
    key: Vec<u8>,
    amz_date: String,
    scope: String,
    seed: String,
    signed_trailer: bool,
}

impl ChunkSigning {
    fn new(request: &SignedRequest<'_>, auth: &SignatureHeader, secret: &str, signed_trailer: bool) -> Result<Self, AwsError> {
        let amz_date = header(request.headers, "x-amz-date").ok_or_else(signature_mismatch)?;
        let signed_at = NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ")
            .map_err(|_| signature_mismatch())?
            .and_utc();
        let key = aws_sigv4::sign::v4::generate_signing_key(secret, signed_at.into(), &auth.region, &auth.service);
        Ok(ChunkSigning {
            key: key.as_ref().to_vec(),
            amz_date: amz_date.to_string(),
            scope: format!("{}/{}/{}/aws4_request", auth.date, auth.region, auth.service),
            seed: auth.signature.clone(),
            signed_trailer,
        })
    }

    fn sign(&self, string_to_sign: &str) -> String {
        aws_sigv4::sign::v4::calculate_signature(&self.key, string_to_sign.as_bytes())
    }

    /// Each chunk's signature chains from the previous one, the first from the request's.
    fn verify(&self, decoded: &aws_chunked::AwsChunked<'_>) -> Result<(), AwsError> {
        let mut previous = self.seed.clone();
        for chunk in &decoded.chunks {
            let string_to_sign = format!(
                "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{previous}\n{EMPTY_SHA256}\n{}",
                self.amz_date,
                self.scope,
                sha256_hex(chunk.data)
            );
            let expected = self.sign(&string_to_sign);
            if chunk.signature != Some(expected.as_str()) {
                return Err(signature_mismatch());
            }
            previous = expected;
        }
        if self.signed_trailer {
            let canonical: String = decoded.trailers.iter().map(|(name, value)| format!("{name}:{value}\n")).collect();
            let string_to_sign = format!(
                "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{previous}\n{}",
                self.amz_date,
                self.scope,
                sha256_hex(canonical.as_bytes())
            );
            if decoded.trailer_signature.as_deref() != Some(self.sign(&string_to_sign).as_str()) {
                return Err(signature_mismatch());
            }
        }
        Ok(())
    }
}

/// An aws-chunked body: decoded, its signatures verified when signed, its length checked
/// against `x-amz-decoded-content-length`, and its trailers those `x-amz-trailer` declared.
fn streaming(request: &SignedRequest<'_>, signing: Option<ChunkSigning>) -> Result<S3Payload, AwsError> {
    let declared_length = header(request.headers, "x-amz-decoded-content-length")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .ok_or_else(|| AwsError::new("MissingContentLength", 411, "You must provide the Content-Length HTTP header."))?;
    let declared_trailer = header(request.headers, "x-amz-trailer").map(|v| v.trim().to_ascii_lowercase());
    if let Some(name) = &declared_trailer {
        if !CHECKSUM_TRAILERS.contains(&name.as_str()) {
            return Err(AwsError::new("InvalidRequest", 400, "The value specified in the x-amz-trailer header is not supported"));
        }
    }
    let decoded = aws_chunked::decode(request.body)?;
    if let Some(signing) = &signing {
        signing.verify(&decoded)?;
    }
    let trailers_as_declared = match &declared_trailer {
        None => decoded.trailers.is_empty(),
        Some(name) => decoded.trailers.len() == 1 && decoded.trailers[0].0 == *name,
    };
    if !trailers_as_declared {
        return Err(aws_chunked::malformed_trailer());
    }
    let body = decoded.payload();
    if body.len() as u64 != declared_length {
        return Err(AwsError::new(
            "IncompleteBody",
            400,
            "You did not provide the number of bytes specified by the Content-Length HTTP header",
        ));
    }
    Ok(S3Payload { body, trailers: decoded.trailers })
}

#[cfg(test)]
mod tests;
