//! `Content-Encoding: aws-chunked` bodies, as S3 clients stream them (S3 API reference, "Signature
//! calculations for the Authorization header: transferring payload in multiple chunks"; botocore
//! `httpchecksum.AwsChunkedWrapper`; aws-sdk-s3 `aws-chunked` body):
//!
//! ```text
//! <hex size>[;chunk-signature=<64 hex>]\r\n<size bytes>\r\n      one per chunk
//! 0[;chunk-signature=<64 hex>]\r\n                               the final, empty chunk
//! [<trailer name>:<value>\r\n]...                                e.g. x-amz-checksum-crc32
//! [x-amz-trailer-signature:<64 hex>\r\n]
//! \r\n
//! ```
//!
//! A pure parser: it splits the body and keeps each chunk's signature and the trailers for the
//! SigV4 code to verify; it checks no signature and no checksum itself. Whatever the bytes, it
//! answers `Ok` or an error S3 would give (never a panic): a body that ends early, a size that is
//! not hexadecimal or overruns the body, a chunk not followed by CRLF and bytes after the final
//! blank line are `IncompleteBody` ("The request body terminated unexpectedly", the code S3
//! gateways that mirror S3 return for these); a trailer line without a colon is
//! `MalformedTrailerError`.

use crate::error::AwsError;

/// One chunk, the final empty one included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk<'a> {
    pub data: &'a [u8],
    /// The `chunk-signature` extension, for `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`.
    pub signature: Option<&'a str>,
}

/// A decoded aws-chunked body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsChunked<'a> {
    /// Every chunk in order; the last one is the empty final chunk.
    pub chunks: Vec<Chunk<'a>>,
    /// Trailing headers (`x-amz-checksum-crc32`), names lower-cased, values trimmed, in order.
    pub trailers: Vec<(String, String)>,
    /// `x-amz-trailer-signature`, which signs the trailers (`...-PAYLOAD-TRAILER`).
    pub trailer_signature: Option<String>,
}

impl AwsChunked<'_> {
    /// The payload: every chunk's data, joined.
    pub fn payload(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.chunks.iter().map(|c| c.data.len()).sum());
        for chunk in &self.chunks {
            out.extend_from_slice(chunk.data);
        }
        out
    }
}

pub fn incomplete_body() -> AwsError {
    AwsError::new("IncompleteBody", 400, "The request body terminated unexpectedly")
}

pub fn malformed_trailer() -> AwsError {
    AwsError::new(
        "MalformedTrailerError",
        400,
        "The request contained trailing data that was not well-formed or did not conform to our published schema.",
    )
}

/// Reads up to the next CRLF; `None` when there is none.
fn line(body: &[u8]) -> Option<(&[u8], &[u8])> {
    let end = body.windows(2).position(|w| w == b"\r\n")?;
    Some((&body[..end], &body[end + 2..]))
}

/// `<hex size>[;name=value]...`: the size and the `chunk-signature` extension, if any.
fn chunk_header(header: &[u8]) -> Result<(usize, Option<&str>), AwsError> {
    let header = std::str::from_utf8(header).map_err(|_| incomplete_body())?;
    let mut parts = header.split(';');
    let size = parts.next().unwrap_or("").trim();
    if size.is_empty() || size.len() > 16 || !size.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(incomplete_body());
    }
    let size = u64::from_str_radix(size, 16).map_err(|_| incomplete_body())?;
    let size = usize::try_from(size).map_err(|_| incomplete_body())?;
    let signature = parts.find_map(|ext| ext.trim().strip_prefix("chunk-signature="));
    Ok((size, signature))
}

/// Splits an aws-chunked body into its chunks and trailers.
pub fn decode(body: &[u8]) -> Result<AwsChunked<'_>, AwsError> {
    let mut rest = body;
    let mut chunks = Vec::new();
    loop {
        let (header, after) = line(rest).ok_or_else(incomplete_body)?;
        let (size, signature) = chunk_header(header)?;
        if size == 0 {
            chunks.push(Chunk { data: &after[..0], signature });
            rest = after;
            break;
        }
        if after.len() < size {
            return Err(incomplete_body());
        }
        let (data, after) = after.split_at(size);
        rest = after.strip_prefix(b"\r\n").ok_or_else(incomplete_body)?;
        chunks.push(Chunk { data, signature });
    }
    let mut trailers = Vec::new();
    let mut trailer_signature = None;
    loop {
        let (text, after) = line(rest).ok_or_else(incomplete_body)?;
        rest = after;
        if text.is_empty() {
            break;
        }
        let text = std::str::from_utf8(text).map_err(|_| malformed_trailer())?;
        let (name, value) = text.split_once(':').ok_or_else(malformed_trailer)?;
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim().to_string());
        if name.is_empty() {
            return Err(malformed_trailer());
        }
        if name == "x-amz-trailer-signature" {
            trailer_signature = Some(value);
        } else {
            trailers.push((name, value));
        }
    }
    if !rest.is_empty() {
        return Err(incomplete_body());
    }
    Ok(AwsChunked { chunks, trailers, trailer_signature })
}

#[cfg(test)]
mod tests {
    use rstest::rstest;

    use super::*;

    #[test]
    fn botocore_unsigned_trailer_body() {
        // What botocore's AwsChunkedWrapper writes for b"hello world" with a CRC32 trailer.
        let body = b"b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n";
        let decoded = decode(body).unwrap();
        assert_eq!(decoded.payload(), b"hello world");
        assert_eq!(decoded.trailers, [("x-amz-checksum-crc32".to_string(), "DUoRhQ==".to_string())]);
        assert_eq!(decoded.chunks.len(), 2);
        assert_eq!(decoded.trailer_signature, None);
    }

    #[test]
    fn signed_chunks_keep_their_signatures() {
        let sig1 = "a".repeat(64);
        let sig2 = "b".repeat(64);
        let body = format!("5;chunk-signature={sig1}\r\nhello\r\n0;chunk-signature={sig2}\r\n\r\n");
        let decoded = decode(body.as_bytes()).unwrap();
        assert_eq!(decoded.payload(), b"hello");
        let signatures: Vec<_> = decoded.chunks.iter().map(|c| c.signature).collect();
        assert_eq!(signatures, [Some(sig1.as_str()), Some(sig2.as_str())]);
        assert!(decoded.trailers.is_empty());
    }

    #[test]
    fn a_signed_trailer_is_kept_apart_from_the_trailers() {
        let body = b"0;chunk-signature=ab\r\nx-amz-checksum-crc64nvme: AAAAAAAAAAA= \r\nx-amz-trailer-signature:cd\r\n\r\n";
        let decoded = decode(body).unwrap();
        assert_eq!(decoded.payload(), b"");
        assert_eq!(decoded.trailers, [("x-amz-checksum-crc64nvme".to_string(), "AAAAAAAAAAA=".to_string())]);
        assert_eq!(decoded.trailer_signature.as_deref(), Some("cd"));
    }

    #[test]
    fn data_may_hold_crlf_and_chunks_of_any_size() {
        let body = b"4\r\n\r\n\r\n\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";
        assert_eq!(decode(body).unwrap().payload(), b"\r\n\r\n0123456789abcdef");
    }

    #[rstest]
    #[case::empty(b"")]
    #[case::no_crlf(b"5")]
    #[case::not_hex(b"zz\r\nhello\r\n0\r\n\r\n")]
    #[case::empty_size(b";chunk-signature=ab\r\n\r\n")]
    #[case::size_overruns_body(b"ff\r\nhello\r\n0\r\n\r\n")]
    #[case::huge_size(b"ffffffffffffffffff\r\nx\r\n0\r\n\r\n")]
    #[case::max_u64(b"ffffffffffffffff\r\nx\r\n0\r\n\r\n")]
    #[case::data_without_crlf(b"5\r\nhelloX0\r\n\r\n")]
    #[case::no_final_chunk(b"5\r\nhello\r\n")]
    #[case::no_blank_line(b"5\r\nhello\r\n0\r\n")]
    #[case::trailer_without_blank_line(b"0\r\nx-amz-checksum-crc32:AAAAAA==\r\n")]
    #[case::bytes_after_the_end(b"0\r\n\r\nextra")]
    #[case::not_utf8(b"\xff\xfe\r\n")]
    fn broken_bodies_are_incomplete(#[case] body: &[u8]) {
        let error = decode(body).unwrap_err();
        assert_eq!((error.code.as_ref(), error.status), ("IncompleteBody", 400), "{body:?}");
    }

    #[rstest]
    #[case::no_colon(b"0\r\nx-amz-checksum-crc32\r\n\r\n")]
    #[case::no_name(b"0\r\n:AAAA\r\n\r\n")]
    #[case::not_utf8(b"0\r\n\xff:a\r\n\r\n")]
    fn broken_trailers_are_malformed(#[case] body: &[u8]) {
        let error = decode(body).unwrap_err();
        assert_eq!((error.code.as_ref(), error.status), ("MalformedTrailerError", 400));
    }

    /// Every prefix of a valid body is refused without panicking.
    #[test]
    fn every_truncation_is_an_error() {
        let body = b"3;chunk-signature=ab\r\nabc\r\n0;chunk-signature=cd\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n";
        assert!(decode(body).is_ok());
        for end in 0..body.len() {
            assert!(decode(&body[..end]).is_err(), "prefix of {end} bytes");
        }
    }
}
