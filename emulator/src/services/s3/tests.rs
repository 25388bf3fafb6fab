//! S3's handlers: what each operation answers, member by member, as the codec will write it.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, TimeZone, Utc};
use rstest::rstest;

use super::*;
use crate::{
    principal::{Caller, CredentialKind},
    profile::BehaviourProfile,
};

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().unwrap()
}

fn admin(world: &World, key: &str) -> Caller {
    Caller {
        principal: world.principal_of(&world.access_keys[key]).unwrap(),
        access_key_id: key.to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

struct Fx {
    world: World,
    a: Caller,
}

impl Fx {
    fn new() -> Fx {
        let world = World::new(BehaviourProfile::Current, t0());
        let a = admin(&world, "AKIAWANAADMINA000001");
        Fx { world, a }
    }

    fn call(&mut self, action: &str, params: Value) -> Result<Value, AwsError> {
        let caller = self.a.clone();
        let call = Call { caller: &caller, region: "us-east-1", now: t0(), action, params: &params };
        handle(&mut self.world, &call).expect("an S3 operation wana serves")
    }

    fn bucket(&mut self, name: &str) {
        self.call("CreateBucket", Value::structure().with("Bucket", name)).unwrap();
    }

    fn put(&mut self, bucket: &str, key: &str, body: &[u8]) -> Value {
        let params = Value::structure().with("Bucket", bucket).with("Key", key).with("Body", Value::Blob(body.to_vec()));
        self.call("PutObject", params).unwrap()
    }
}

fn text<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter().try_fold(value, |v, name| v.get(name)).and_then(Value::as_str)
}

#[test]
fn create_bucket_answers_its_location_and_list_buckets_its_region() {
    let mut fx = Fx::new();
    let created = fx.call("CreateBucket", Value::structure().with("Bucket", "reports")).unwrap();
    assert_eq!(text(&created, &["Location"]), Some("/reports"));
    let config = Value::structure().with("LocationConstraint", "eu-west-1");
    fx.call("CreateBucket", Value::structure().with("Bucket", "reports-eu").with("CreateBucketConfiguration", config)).unwrap();
    let listed = fx.call("ListBuckets", Value::structure()).unwrap();
    let result = listed.get("ListAllMyBucketsResult").unwrap();
    let buckets = result.get("Buckets").unwrap().get("Bucket").unwrap().as_list();
    let summary: Vec<(Option<&str>, Option<&str>)> =
        buckets.iter().map(|b| (text(b, &["Name"]), text(b, &["BucketRegion"]))).collect();
    assert_eq!(summary, [(Some("reports"), Some("us-east-1")), (Some("reports-eu"), Some("eu-west-1"))]);
    assert_eq!(text(result, &["Owner", "ID"]).map(str::len), Some(64));
    let head = fx.call("HeadBucket", Value::structure().with("Bucket", "reports-eu")).unwrap();
    assert_eq!(text(&head, &["BucketRegion"]), Some("eu-west-1"));
}

#[test]
fn objects_answer_etag_checksum_and_encryption() {
    let mut fx = Fx::new();
    fx.bucket("reports");
    let put = fx.put("reports", "a.txt", b"123456789");
    assert_eq!(text(&put, &["ETag"]), Some("\"25f9e794323b453885f5181f1b624d0b\""));
    assert_eq!(text(&put, &["ChecksumCRC64NVME"]), Some("rosUhgp5mIg="));
    assert_eq!(text(&put, &["ChecksumType"]), Some("FULL_OBJECT"));
    assert_eq!(text(&put, &["ServerSideEncryption"]), Some("AES256"));

    let get = Value::structure().with("Bucket", "reports").with("Key", "a.txt");
    let plain = fx.call("GetObject", get.clone()).unwrap();
    assert_eq!(plain.get("Body"), Some(&Value::Blob(b"123456789".to_vec())));
    assert_eq!(plain.get("ContentLength").and_then(Value::as_i64), Some(9));
    assert_eq!(text(&plain, &["ContentType"]), Some("binary/octet-stream"));
    assert_eq!(plain.get("ChecksumCRC64NVME"), None, "checksums only when asked");
    let with_checksum = fx.call("GetObject", get.clone().with("ChecksumMode", "ENABLED")).unwrap();
    assert_eq!(text(&with_checksum, &["ChecksumCRC64NVME"]), Some("rosUhgp5mIg="));
    let head = fx.call("HeadObject", get).unwrap();
    assert_eq!(head.get("Body"), None);
    assert_eq!(head.get("ContentLength").and_then(Value::as_i64), Some(9));
}

#[test]
fn a_checksum_header_is_verified_and_kept() {
    let mut fx = Fx::new();
    fx.bucket("reports");
    let params = |body: &[u8]| {
        Value::structure()
            .with("Bucket", "reports")
            .with("Key", "a.txt")
            .with("ChecksumAlgorithm", "CRC32")
            .with("ChecksumCRC32", "y/Q5Jg==")
            .with("ContentType", "text/plain")
            .with("Body", Value::Blob(body.to_vec()))
    };
    let put = fx.call("PutObject", params(b"123456789")).unwrap();
    assert_eq!(text(&put, &["ChecksumCRC32"]), Some("y/Q5Jg=="));
    let error = fx.call("PutObject", params(b"12345678X")).unwrap_err();
    assert_eq!(error.code, "BadDigest");
}

fn listing(fx: &mut Fx, extra: &[(&str, &str)]) -> Value {
    let mut params = Value::structure().with("Bucket", "media");
    for (name, value) in extra {
        params = params.with(name, *value);
    }
    fx.call("ListObjectsV2", params).unwrap().get("ListBucketResult").unwrap().clone()
}

#[test]
fn list_objects_v2_answers_s3s_members_and_url_encodes_on_request() {
    let mut fx = Fx::new();
    fx.bucket("media");
    for key in ["a b+c.txt", "dir/x", "dir/y", "z"] {
        fx.put("media", key, b"x");
    }
    let page = listing(&mut fx, &[("MaxKeys", "2"), ("Delimiter", "/")]);
    assert_eq!(text(&page, &["Name"]), Some("media"));
    assert_eq!(text(&page, &["Prefix"]), Some(""));
    assert_eq!(page.get("KeyCount").and_then(Value::as_i64), Some(2));
    assert_eq!(page.get("MaxKeys").and_then(Value::as_i64), Some(2));
    assert_eq!(page.get("IsTruncated"), Some(&Value::Bool(true)));
    let keys: Vec<&str> = page.get("Contents").unwrap().as_list().iter().filter_map(|c| text(c, &["Key"])).collect();
    let prefixes: Vec<&str> = page.get("CommonPrefixes").unwrap().as_list().iter().filter_map(|c| text(c, &["Prefix"])).collect();
    assert_eq!((keys, prefixes), (vec!["a b+c.txt"], vec!["dir/"]));
    let first = &page.get("Contents").unwrap().as_list()[0];
    assert_eq!(first.get("ChecksumAlgorithm"), Some(&Value::List(vec!["CRC64NVME".into()])));
    assert_eq!(text(first, &["StorageClass"]), Some("STANDARD"));
    assert_eq!(first.get("Size").and_then(Value::as_i64), Some(1));

    let token = text(&page, &["NextContinuationToken"]).unwrap().to_string();
    let rest = listing(&mut fx, &[("Delimiter", "/"), ("ContinuationToken", &token)]);
    assert_eq!(text(&rest, &["ContinuationToken"]), Some(token.as_str()));
    assert_eq!(rest.get("IsTruncated"), Some(&Value::Bool(false)));
    assert_eq!(rest.get("NextContinuationToken"), None);
    assert_eq!(rest.get("Contents").unwrap().as_list().iter().filter_map(|c| text(c, &["Key"])).collect::<Vec<_>>(), ["z"]);

    // botocore asks for url encoding and decodes what it gets.
    let encoded = listing(&mut fx, &[("EncodingType", "url"), ("Prefix", "a b")]);
    assert_eq!(text(&encoded, &["EncodingType"]), Some("url"));
    assert_eq!(text(&encoded, &["Prefix"]), Some("a%20b"));
    assert_eq!(text(&encoded.get("Contents").unwrap().as_list()[0], &["Key"]), Some("a%20b%2Bc.txt"));
}

#[test]
fn an_unknown_encoding_is_an_invalid_argument() {
    let mut fx = Fx::new();
    fx.bucket("media");
    let error = fx
        .call("ListObjectsV2", Value::structure().with("Bucket", "media").with("EncodingType", "base64"))
        .unwrap_err();
    assert_eq!((error.code.as_ref(), error.message.as_str()), ("InvalidArgument", "Invalid Encoding Method specified in Request"));
}

#[rstest]
#[case::put_object("PutObject")]
#[case::list("ListObjectsV2")]
#[case::head_bucket("HeadBucket")]
#[case::policy("GetBucketPolicy")]
fn an_unexpected_bucket_owner_is_access_denied(#[case] action: &str) {
    let mut fx = Fx::new();
    fx.bucket("reports");
    let params = Value::structure().with("Bucket", "reports").with("Key", "k").with("ExpectedBucketOwner", "222222222222");
    let error = fx.call(action, params).unwrap_err();
    assert_eq!((error.code.as_ref(), error.status), ("AccessDenied", 403));
    let right_owner = Value::structure().with("Bucket", "reports").with("ExpectedBucketOwner", "111111111111");
    fx.call("HeadBucket", right_owner).unwrap();
}

#[test]
fn a_policy_that_is_not_text_is_malformed() {
    let mut fx = Fx::new();
    fx.bucket("reports");
    let params = Value::structure().with("Bucket", "reports").with("Policy", Value::Blob(vec![0xff, 0xfe]));
    let error = fx.call("PutBucketPolicy", params).unwrap_err();
    assert_eq!((error.code.as_ref(), error.message.as_str()), ("MalformedPolicy", "This policy contains invalid Json"));
}

#[test]
fn operations_wana_does_not_serve_are_left_to_not_implemented() {
    let mut fx = Fx::new();
    let caller = fx.a.clone();
    let params = Value::structure().with("Bucket", "reports");
    let call = Call { caller: &caller, region: "us-east-1", now: t0(), action: "ListObjects", params: &params };
    assert!(handle(&mut fx.world, &call).is_none());
}
