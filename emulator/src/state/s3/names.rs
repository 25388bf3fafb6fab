//! General purpose bucket naming rules (S3 user guide, "General purpose bucket naming rules"):
//! 3 to 63 characters; lower-case letters, digits, dots and hyphens; a letter or digit first and
//! last; no two adjacent dots; not an IPv4 address; none of the reserved prefixes (`xn--`,
//! `sthree-`, `amzn-s3-demo-`) and suffixes (`-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`,
//! `--table-s3`). Breaking one is `InvalidBucketName`.

const RESERVED_PREFIXES: [&str; 3] = ["xn--", "sthree-", "amzn-s3-demo-"];
const RESERVED_SUFFIXES: [&str; 5] = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"];

pub fn valid_bucket_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    let allowed = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'.' || *b == b'-';
    let alnum = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (3..=63).contains(&bytes.len())
        && bytes.iter().all(allowed)
        && alnum(bytes.first())
        && alnum(bytes.last())
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
        && !RESERVED_PREFIXES.iter().any(|p| name.starts_with(p))
        && !RESERVED_SUFFIXES.iter().any(|s| name.ends_with(s))
}
