//! What S3 computes over an object's bytes: the ETag (the MD5 digest of a single-part upload,
//! in hex and quotes), `Content-MD5`, and the flexible checksums (CRC32, CRC32C, CRC64NVME,
//! SHA-1, SHA-256; base64 of the big-endian digest, as in `x-amz-checksum-crc32`).

use base64::Engine as _;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

const CRC32: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC);
const CRC32C: crc::Crc<u32> = crc::Crc::<u32>::new(&crc::CRC_32_ISCSI);
const CRC64NVME: crc::Crc<u64> = crc::Crc::<u64>::new(&crc::CRC_64_NVME);

fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// A flexible checksum algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Crc32,
    Crc32c,
    Crc64Nvme,
    Sha1,
    Sha256,
}

impl Algorithm {
    pub const ALL: [Algorithm; 5] = [Algorithm::Crc32, Algorithm::Crc32c, Algorithm::Crc64Nvme, Algorithm::Sha1, Algorithm::Sha256];

    /// The name in `x-amz-sdk-checksum-algorithm` and in listings (`CRC32`).
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "CRC32",
            Algorithm::Crc32c => "CRC32C",
            Algorithm::Crc64Nvme => "CRC64NVME",
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
        }
    }

    /// The model member that carries it (`ChecksumCRC32`).
    pub fn member(self) -> &'static str {
        match self {
            Algorithm::Crc32 => "ChecksumCRC32",
            Algorithm::Crc32c => "ChecksumCRC32C",
            Algorithm::Crc64Nvme => "ChecksumCRC64NVME",
            Algorithm::Sha1 => "ChecksumSHA1",
            Algorithm::Sha256 => "ChecksumSHA256",
        }
    }

    pub fn from_name(name: &str) -> Option<Algorithm> {
        Self::ALL.into_iter().find(|a| a.name().eq_ignore_ascii_case(name))
    }

    /// The checksum of `bytes`, base64 as S3 writes it.
    pub fn compute(self, bytes: &[u8]) -> String {
        match self {
            Algorithm::Crc32 => base64(&CRC32.checksum(bytes).to_be_bytes()),
            Algorithm::Crc32c => base64(&CRC32C.checksum(bytes).to_be_bytes()),
            Algorithm::Crc64Nvme => base64(&CRC64NVME.checksum(bytes).to_be_bytes()),
            Algorithm::Sha1 => base64(&Sha1::digest(bytes)),
            Algorithm::Sha256 => base64(&Sha256::digest(bytes)),
        }
    }
}

/// An object's checksum as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checksum {
    pub algorithm: Algorithm,
    pub value: String,
}

/// The ETag of a single-part object: its MD5 digest in hex, in double quotes.
pub fn etag(bytes: &[u8]) -> String {
    format!("\"{}\"", hex::encode(Md5::digest(bytes)))
}

/// The MD5 digest of `bytes`, raw, to compare with a decoded `Content-MD5`.
pub fn md5(bytes: &[u8]) -> [u8; 16] {
    Md5::digest(bytes).into()
}

pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()
}
