//! S3's model: naming, where buckets are created, conflicts between accounts, authorization with
//! identity and bucket policies, missing keys, listings, bucket-policy validation and digests.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, TimeZone, Utc};
use rstest::rstest;

use super::*;
use crate::{
    authz::RequestFacts,
    principal::{Caller, CredentialKind, Principal},
    profile::BehaviourProfile,
};

const A: &str = "111111111111";
const B: &str = "222222222222";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().unwrap()
}

struct Fixture {
    world: World,
    region: String,
}

fn admin(world: &World, key: &str) -> Caller {
    Caller {
        principal: world.principal_of(&world.access_keys[key]).expect("a built-in administrator"),
        access_key_id: key.to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

impl Fixture {
    fn new() -> Fixture {
        Fixture { world: World::new(BehaviourProfile::Current, t0()), region: "us-east-1".to_string() }
    }

    fn in_region(region: &str) -> Fixture {
        Fixture { region: region.to_string(), ..Fixture::new() }
    }

    fn admin_a(&self) -> Caller {
        admin(&self.world, "AKIAWANAADMINA000001")
    }

    fn admin_b(&self) -> Caller {
        admin(&self.world, "AKIAWANAADMINB000002")
    }

    /// A user of `account` whose only policy is `policy` (none when `None`).
    fn user(&mut self, account: &str, name: &str, policy: Option<&str>) -> Caller {
        let (iam, ids) = self.world.iam_and_ids(account).unwrap();
        let user = iam.create_user(ids, account, t0(), name, None, Vec::new()).unwrap().clone();
        if let Some(policy) = policy {
            iam.put_user_policy(name, "inline", policy).unwrap();
        }
        let mut caller = self.admin_a();
        caller.principal = Principal::User { account: account.to_string(), name: user.name, path: user.path, user_id: user.id };
        caller
    }

    fn create(&mut self, caller: &Caller, name: &str, constraint: Option<&str>) -> Result<bool, AwsError> {
        let facts = RequestFacts { caller, now: t0(), region: &self.region };
        create_bucket(&mut self.world, facts, name, constraint)
    }

    fn put(&mut self, caller: &Caller, bucket: &str, key: &str, body: &[u8]) -> Result<Stored, AwsError> {
        let facts = RequestFacts { caller, now: t0(), region: &self.region };
        put_object(&mut self.world, facts, bucket, key, NewObject { body: body.to_vec(), ..NewObject::default() })
    }

    fn get(&mut self, caller: &Caller, bucket: &str, key: &str) -> Result<Object, AwsError> {
        let facts = RequestFacts { caller, now: t0(), region: &self.region };
        get_object(&mut self.world, facts, bucket, key)
    }

    fn put_policy(&mut self, bucket: &str, policy: &str) -> Result<(), AwsError> {
        let caller = self.admin_a();
        let facts = RequestFacts { caller: &caller, now: t0(), region: &self.region };
        put_bucket_policy(&mut self.world, facts, bucket, policy)
    }

    fn list(&mut self, caller: &Caller, bucket: &str, request: ListRequest<'_>) -> Result<Listing, AwsError> {
        let facts = RequestFacts { caller, now: t0(), region: &self.region };
        list_objects_v2(&mut self.world, facts, bucket, request)
    }
}

fn code<T: std::fmt::Debug>(result: Result<T, AwsError>) -> (String, u16) {
    let error = result.expect_err("an S3 error");
    (error.code.to_string(), error.status)
}

#[rstest]
#[case("reports", true)]
#[case("my.bucket-2024", true)]
#[case("abc", true)]
#[case(&"a".repeat(63), true)]
#[case("ab", false)]
#[case(&"a".repeat(64), false)]
#[case("Reports", false)]
#[case("my_bucket", false)]
#[case("-reports", false)]
#[case("reports-", false)]
#[case("my..bucket", false)]
#[case("192.168.5.4", false)]
#[case("xn--bucket", false)]
#[case("sthree-bucket", false)]
#[case("amzn-s3-demo-bucket", false)]
#[case("bucket-s3alias", false)]
#[case("bucket--ol-s3", false)]
#[case("bucket--x-s3", false)]
fn bucket_naming_rules(#[case] name: &str, #[case] valid: bool) {
    assert_eq!(valid_bucket_name(name), valid, "{name}");
    let mut fx = Fixture::new();
    let caller = fx.admin_a();
    let result = fx.create(&caller, name, None);
    if valid {
        assert_eq!(result, Ok(true));
    } else {
        assert_eq!(code(result), ("InvalidBucketName".to_string(), 400));
    }
}

#[rstest]
#[case::default_region("us-east-1", None, Ok("us-east-1"))]
#[case::another_region_from_us_east_1("us-east-1", Some("eu-west-1"), Ok("eu-west-1"))]
#[case::legacy_eu("us-east-1", Some("EU"), Ok("eu-west-1"))]
#[case::us_east_1_named("us-east-1", Some("us-east-1"), Err("InvalidLocationConstraint"))]
#[case::not_a_region("us-east-1", Some("moon-1"), Err("InvalidLocationConstraint"))]
#[case::matching("ap-northeast-1", Some("ap-northeast-1"), Ok("ap-northeast-1"))]
#[case::unspecified_outside_us_east_1("ap-northeast-1", None, Err("IllegalLocationConstraintException"))]
#[case::mismatched("ap-northeast-1", Some("eu-west-1"), Err("IllegalLocationConstraintException"))]
fn a_bucket_is_created_where_the_endpoint_and_constraint_say(
    #[case] endpoint: &str,
    #[case] constraint: Option<&str>,
    #[case] expected: Result<&str, &str>,
) {
    let mut fx = Fixture::in_region(endpoint);
    let caller = fx.admin_a();
    match expected {
        Ok(region) => {
            fx.create(&caller, "reports", constraint).unwrap();
            let facts = RequestFacts { caller: &caller, now: t0(), region: endpoint };
            assert_eq!(head_bucket(&mut fx.world, facts, "reports").unwrap(), region);
        }
        Err(expected) => {
            let (code, status) = code(fx.create(&caller, "reports", constraint));
            assert_eq!((code.as_str(), status), (expected, 400));
        }
    }
}

#[test]
fn the_unspecified_constraint_is_named_so_in_the_message() {
    let mut fx = Fixture::in_region("eu-west-1");
    let caller = fx.admin_a();
    let error = fx.create(&caller, "reports", None).unwrap_err();
    assert_eq!(
        error.message,
        "The unspecified location constraint is incompatible for the region specific endpoint this request was sent to."
    );
}

#[test]
fn bucket_names_are_global_and_us_east_1_forgives_a_second_create() {
    let mut fx = Fixture::new();
    let (a, b) = (fx.admin_a(), fx.admin_b());
    assert_eq!(fx.create(&a, "reports", None), Ok(true));
    // us-east-1's legacy: the owner re-creating its bucket there is answered 200.
    assert_eq!(fx.create(&a, "reports", None), Ok(false));
    assert_eq!(code(fx.create(&b, "reports", None)), ("BucketAlreadyExists".to_string(), 409));
    // Elsewhere the owner is told it already owns the bucket.
    fx.create(&a, "logs-eu", Some("eu-west-1")).unwrap();
    assert_eq!(code(fx.create(&a, "logs-eu", Some("eu-west-1"))), ("BucketAlreadyOwnedByYou".to_string(), 409));
    assert_eq!(code(fx.create(&b, "logs-eu", Some("eu-west-1"))), ("BucketAlreadyExists".to_string(), 409));
    // Each account lists its own buckets only.
    let region = fx.region.clone();
    let facts = RequestFacts { caller: &a, now: t0(), region: &region };
    let world = &mut fx.world;
    let names: Vec<String> = list_buckets(world, facts, None, None).unwrap().into_iter().map(|b| b.name).collect();
    assert_eq!(names, ["logs-eu", "reports"]);
    let facts = RequestFacts { caller: &b, now: t0(), region: "us-east-1" };
    assert!(list_buckets(world, facts, None, None).unwrap().is_empty());
}

#[test]
fn only_an_empty_bucket_is_deleted_and_its_name_is_free_again() {
    let mut fx = Fixture::new();
    let (a, b) = (fx.admin_a(), fx.admin_b());
    fx.create(&a, "reports", None).unwrap();
    fx.put(&a, "reports", "x.txt", b"x").unwrap();
    let facts = RequestFacts { caller: &a, now: t0(), region: "us-east-1" };
    let mut world = std::mem::replace(&mut fx.world, World::new(BehaviourProfile::Current, t0()));
    assert_eq!(code(delete_bucket(&mut world, facts, "reports")), ("BucketNotEmpty".to_string(), 409));
    delete_object(&mut world, facts, "reports", "x.txt").unwrap();
    // Deleting a key that is not there succeeds, as on S3.
    delete_object(&mut world, facts, "reports", "x.txt").unwrap();
    delete_bucket(&mut world, facts, "reports").unwrap();
    assert_eq!(code(delete_bucket(&mut world, facts, "reports")), ("NoSuchBucket".to_string(), 404));
    fx.world = world;
    assert_eq!(fx.create(&b, "reports", None), Ok(true));
}

const PUT_ANY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:PutObject","Resource":"*"}]}"#;

fn bucket_policy(principal: &str, effect: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"{effect}","Principal":{{"AWS":"{principal}"}},"Action":"s3:PutObject","Resource":"arn:aws:s3:::shared/*"}}]}}"#
    )
}

/// Who may put an object into account A's bucket `shared`, by the caller's identity policy and
/// the bucket policy: same account, either suffices (naming only the account delegates to IAM);
/// another account, both must allow; an explicit deny wins over AdministratorAccess.
#[rstest]
#[case::same_account_identity_only("a", Some(PUT_ANY), None, true)]
#[case::same_account_nothing("a", None, None, false)]
#[case::same_account_bucket_policy_names_the_user("a", None, Some(("arn:aws:iam::111111111111:user/writer", "Allow")), true)]
#[case::same_account_bucket_policy_names_only_the_account("a", None, Some(("arn:aws:iam::111111111111:root", "Allow")), false)]
#[case::same_account_admin_denied_by_bucket_policy("admin-a", None, Some(("arn:aws:iam::111111111111:root", "Deny")), false)]
#[case::other_account_identity_only("b", Some(PUT_ANY), None, false)]
#[case::other_account_bucket_policy_only("b", None, Some(("arn:aws:iam::222222222222:user/writer", "Allow")), false)]
#[case::other_account_both("b", Some(PUT_ANY), Some(("arn:aws:iam::222222222222:user/writer", "Allow")), true)]
#[case::other_account_both_via_account("b", Some(PUT_ANY), Some(("222222222222", "Allow")), true)]
#[case::other_account_admin_without_bucket_policy("admin-b", None, None, false)]
fn put_object_is_authorized_as_aws_evaluates_s3(
    #[case] who: &str,
    #[case] identity: Option<&str>,
    #[case] bucket: Option<(&str, &str)>,
    #[case] allowed: bool,
) {
    let mut fx = Fixture::new();
    let a = fx.admin_a();
    fx.create(&a, "shared", None).unwrap();
    let caller = match who {
        "a" => fx.user(A, "writer", identity),
        "b" => fx.user(B, "writer", identity),
        "admin-a" => a.clone(),
        _ => fx.admin_b(),
    };
    if let Some((principal, effect)) = bucket {
        fx.put_policy("shared", &bucket_policy(principal, effect)).unwrap();
    }
    let result = fx.put(&caller, "shared", "in/x.txt", b"x");
    if allowed {
        result.unwrap();
    } else {
        let error = result.unwrap_err();
        assert_eq!((error.code.as_ref(), error.status, error.message.as_str()), ("AccessDenied", 403, "Access Denied"));
    }
    let last = fx.world.authz_log.records().last().unwrap().clone();
    assert_eq!((last.action.as_str(), last.resource.as_str(), last.allowed), ("s3:PutObject", "arn:aws:s3:::shared/in/x.txt", allowed));
}

#[test]
fn a_missing_key_is_no_such_key_only_to_those_who_may_list() {
    let mut fx = Fixture::new();
    let a = fx.admin_a();
    fx.create(&a, "shared", None).unwrap();
    fx.put(&a, "shared", "there.txt", b"hello").unwrap();
    let reader = fx.user(
        A,
        "reader",
        Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}"#),
    );
    assert_eq!(fx.get(&reader, "shared", "there.txt").unwrap().body, b"hello");
    assert_eq!(code(fx.get(&reader, "shared", "missing.txt")), ("AccessDenied".to_string(), 403));
    assert_eq!(code(fx.get(&a, "shared", "missing.txt")), ("NoSuchKey".to_string(), 404));
    assert_eq!(code(fx.get(&a, "nowhere", "missing.txt")), ("NoSuchBucket".to_string(), 404));
}

fn listing_fixture() -> (Fixture, Caller) {
    let mut fx = Fixture::new();
    let a = fx.admin_a();
    fx.create(&a, "media", None).unwrap();
    for key in ["a.txt", "logs/2024/x", "logs/2024/y", "logs/2025/z", "photos/p1", "photos/p2", "z.txt"] {
        fx.put(&a, "media", key, key.as_bytes()).unwrap();
    }
    (fx, a)
}

fn names(listing: &Listing) -> Vec<String> {
    listing
        .entries
        .iter()
        .map(|e| match e {
            Entry::Object(o) => o.key.clone(),
            Entry::CommonPrefix(p) => format!("PRE {p}"),
        })
        .collect()
}

#[rstest]
#[case::all(None, None, None, &["a.txt", "logs/2024/x", "logs/2024/y", "logs/2025/z", "photos/p1", "photos/p2", "z.txt"])]
#[case::prefix(Some("logs/"), None, None, &["logs/2024/x", "logs/2024/y", "logs/2025/z"])]
#[case::root_with_delimiter(None, Some("/"), None, &["a.txt", "PRE logs/", "PRE photos/", "z.txt"])]
#[case::prefix_and_delimiter(Some("logs/"), Some("/"), None, &["PRE logs/2024/", "PRE logs/2025/"])]
#[case::start_after(None, None, Some("logs/2024/y"), &["logs/2025/z", "photos/p1", "photos/p2", "z.txt"])]
#[case::prefix_that_is_no_directory(Some("logs/2024/"), Some("/"), None, &["logs/2024/x", "logs/2024/y"])]
fn listings_follow_prefix_delimiter_and_start_after(
    #[case] prefix: Option<&str>,
    #[case] delimiter: Option<&str>,
    #[case] start_after: Option<&str>,
    #[case] expected: &[&str],
) {
    let (mut fx, a) = listing_fixture();
    let listing = fx.list(&a, "media", ListRequest { prefix, delimiter, start_after, ..ListRequest::default() }).unwrap();
    assert_eq!(names(&listing), expected);
    assert!(!listing.is_truncated);
    assert_eq!(listing.next_continuation_token, None);
}

/// Paging with any page size through continuation tokens yields the unpaged listing, common
/// prefixes counted once.
#[rstest]
fn pages_join_up_to_the_whole_listing(#[values(1, 2, 3)] page: usize, #[values(None, Some("/"))] delimiter: Option<&str>) {
    let (mut fx, a) = listing_fixture();
    let whole = names(&fx.list(&a, "media", ListRequest { delimiter, ..ListRequest::default() }).unwrap());
    let max = page.to_string();
    let mut token: Option<String> = None;
    let mut joined = Vec::new();
    loop {
        let request = ListRequest { delimiter, max_keys: Some(&max), continuation_token: token.as_deref(), ..ListRequest::default() };
        let listing = fx.list(&a, "media", request).unwrap();
        assert!(listing.entries.len() <= page);
        joined.extend(names(&listing));
        assert_eq!(listing.is_truncated, listing.next_continuation_token.is_some());
        match listing.next_continuation_token {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    assert_eq!(joined, whole);
}

#[rstest]
#[case::negative(Some("-1"), None, "Provided max-keys not an integer or within integer range")]
#[case::not_a_number(Some("ten"), None, "Provided max-keys not an integer or within integer range")]
#[case::bad_token(None, Some("not base64!"), "The continuation token provided is incorrect")]
#[case::foreign_token(None, Some("eHl6"), "The continuation token provided is incorrect")]
fn bad_listing_parameters_are_invalid_arguments(#[case] max_keys: Option<&str>, #[case] token: Option<&str>, #[case] message: &str) {
    let (mut fx, a) = listing_fixture();
    let error = fx.list(&a, "media", ListRequest { max_keys, continuation_token: token, ..ListRequest::default() }).unwrap_err();
    assert_eq!((error.code.as_ref(), error.status, error.message.as_str()), ("InvalidArgument", 400, message));
}

#[test]
fn max_keys_zero_lists_nothing_and_large_values_are_capped() {
    let (mut fx, a) = listing_fixture();
    let none = fx.list(&a, "media", ListRequest { max_keys: Some("0"), ..ListRequest::default() }).unwrap();
    assert!(none.entries.is_empty() && !none.is_truncated);
    let capped = fx.list(&a, "media", ListRequest { max_keys: Some("5000"), ..ListRequest::default() }).unwrap();
    assert_eq!(capped.max_keys, 1000);
}

#[test]
fn list_bucket_conditions_see_the_prefix() {
    let (mut fx, _) = listing_fixture();
    let user = fx.user(
        A,
        "logs-reader",
        Some(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::media","Condition":{"StringLike":{"s3:prefix":"logs/*"}}}]}"#),
    );
    let logs = fx.list(&user, "media", ListRequest { prefix: Some("logs/"), ..ListRequest::default() }).unwrap();
    assert_eq!(logs.entries.len(), 3);
    assert_eq!(code(fx.list(&user, "media", ListRequest::default())), ("AccessDenied".to_string(), 403));
    assert_eq!(code(fx.list(&user, "media", ListRequest { prefix: Some("photos/"), ..ListRequest::default() })), ("AccessDenied".to_string(), 403));
}

fn statement(principal: &str, action: &str, resource: &str) -> String {
    format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{principal},"Action":{action},"Resource":{resource}}}]}}"#
    )
}

#[rstest]
#[case::not_an_object("[]", "Policies must be valid JSON and the first byte must be '{'")]
#[case::invalid_json("{\"Statement\": [", "This policy contains invalid Json")]
#[case::no_principal(r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::shared/*"}]}"#, "Missing required field Principal")]
#[case::star_resource(&statement(r#""*""#, r#""s3:GetObject""#, r#""*""#), "Policy has invalid resource")]
#[case::other_bucket(&statement(r#""*""#, r#""s3:GetObject""#, r#""arn:aws:s3:::other/*""#), "Policy has invalid resource")]
#[case::not_s3(&statement(r#""*""#, r#""s3:GetObject""#, r#""arn:aws:sqs:::shared""#), "Policy has invalid resource")]
#[case::not_an_s3_action(&statement(r#""*""#, r#""ec2:RunInstances""#, r#""arn:aws:s3:::shared/*""#), "Policy has invalid action")]
#[case::object_action_on_bucket(&statement(r#""*""#, r#""s3:PutObject""#, r#""arn:aws:s3:::shared""#), "Action does not apply to any resource(s) in statement")]
#[case::bucket_action_on_objects(&statement(r#""*""#, r#""s3:ListBucket""#, r#""arn:aws:s3:::shared/*""#), "Action does not apply to any resource(s) in statement")]
#[case::unknown_user(&statement(r#"{"AWS":"arn:aws:iam::111111111111:user/ghost"}"#, r#""s3:GetObject""#, r#""arn:aws:s3:::shared/*""#), "Invalid principal in policy")]
#[case::not_an_arn(&statement(r#"{"AWS":"ghost"}"#, r#""s3:GetObject""#, r#""arn:aws:s3:::shared/*""#), "Invalid principal in policy")]
fn malformed_bucket_policies_are_refused_in_s3s_words(#[case] policy: &str, #[case] message: &str) {
    let mut fx = Fixture::new();
    let a = fx.admin_a();
    fx.create(&a, "shared", None).unwrap();
    let error = fx.put_policy("shared", policy).unwrap_err();
    assert_eq!((error.code.as_ref(), error.status, error.message.as_str()), ("MalformedPolicy", 400, message));
}

#[rstest]
#[case::object_and_bucket(r#""s3:*""#, r#"["arn:aws:s3:::shared","arn:aws:s3:::shared/*"]"#)]
#[case::wildcard_bucket(r#"["s3:GetObject","s3:ListBucket"]"#, r#""arn:aws:s3:::sha*""#)]
#[case::account_principal(r#""s3:GetObject""#, r#""arn:aws:s3:::shared/reports/*""#)]
fn valid_bucket_policies_are_kept_as_written(#[case] action: &str, #[case] resource: &str) {
    let mut fx = Fixture::new();
    let a = fx.admin_a();
    fx.create(&a, "shared", None).unwrap();
    let policy = statement(r#"{"AWS":["222222222222","arn:aws:iam::111111111111:user/admin"]}"#, action, resource);
    fx.put_policy("shared", &policy).unwrap();
    let region = fx.region.clone();
    let facts = RequestFacts { caller: &a, now: t0(), region: &region };
    let world = &mut fx.world;
    assert_eq!(get_bucket_policy(world, facts, "shared").unwrap(), policy);
}

#[test]
fn bucket_policy_operations_are_for_the_owners_account() {
    let mut fx = Fixture::new();
    let (a, b) = (fx.admin_a(), fx.admin_b());
    fx.create(&a, "shared", None).unwrap();
    let facts_a = RequestFacts { caller: &a, now: t0(), region: "us-east-1" };
    let facts_b = RequestFacts { caller: &b, now: t0(), region: "us-east-1" };
    let world = &mut fx.world;
    assert_eq!(code(get_bucket_policy(world, facts_a, "shared")), ("NoSuchBucketPolicy".to_string(), 404));
    let everything = statement(r#"{"AWS":"222222222222"}"#, r#""s3:*""#, r#"["arn:aws:s3:::shared","arn:aws:s3:::shared/*"]"#);
    put_bucket_policy(world, facts_a, "shared", &everything).unwrap();
    // Account B is allowed by both sides, and still may not touch the policy.
    assert_eq!(code(get_bucket_policy(world, facts_b, "shared")), ("MethodNotAllowed".to_string(), 405));
    assert_eq!(code(delete_bucket_policy(world, facts_b, "shared")), ("MethodNotAllowed".to_string(), 405));
    delete_bucket_policy(world, facts_a, "shared").unwrap();
    delete_bucket_policy(world, facts_a, "shared").unwrap();
    assert_eq!(code(get_bucket_policy(world, facts_a, "shared")), ("NoSuchBucketPolicy".to_string(), 404));
    // Without the policy, account B is refused before the owner rule.
    assert_eq!(code(get_bucket_policy(world, facts_b, "shared")), ("AccessDenied".to_string(), 403));
}

#[rstest]
#[case(Algorithm::Crc32, "y/Q5Jg==")]
#[case(Algorithm::Crc32c, "4waSgw==")]
#[case(Algorithm::Crc64Nvme, "rosUhgp5mIg=")]
#[case(Algorithm::Sha1, "98O8HYCOBHMq32eZZczDTKeuNEE=")]
#[case(Algorithm::Sha256, "FeKw08M4keuw8e9gnsQZQgwg4yDOlMZfvIwzEkSOsiU=")]
fn checksums_of_the_check_string(#[case] algorithm: Algorithm, #[case] expected: &str) {
    assert_eq!(algorithm.compute(b"123456789"), expected);
}

fn put_with(new: NewObject<'_>) -> Result<Stored, AwsError> {
    let mut fx = Fixture::new();
    let a = fx.admin_a();
    fx.create(&a, "shared", None).unwrap();
    let facts = RequestFacts { caller: &a, now: t0(), region: "us-east-1" };
    put_object(&mut fx.world, facts, "shared", "k", new)
}

fn body() -> Vec<u8> {
    b"123456789".to_vec()
}

#[test]
fn put_object_stores_the_declared_checksum_or_crc64nvme() {
    let stored = put_with(NewObject { body: body(), algorithm: Some("CRC32"), checksums: vec![(Algorithm::Crc32, "y/Q5Jg==")], ..NewObject::default() }).unwrap();
    assert_eq!(stored.etag, "\"25f9e794323b453885f5181f1b624d0b\"");
    assert_eq!(stored.checksum, Checksum { algorithm: Algorithm::Crc32, value: "y/Q5Jg==".to_string() });
    let stored = put_with(NewObject { body: body(), content_md5: Some("JfnnlDI7RTiF9RgfG2JNCw=="), ..NewObject::default() }).unwrap();
    assert_eq!(stored.checksum, Checksum { algorithm: Algorithm::Crc64Nvme, value: "rosUhgp5mIg=".to_string() });
}

#[rstest]
#[case::wrong_crc32(NewObject { checksums: vec![(Algorithm::Crc32, "AAAAAA==")], ..NewObject::default() }, "BadDigest", "The CRC32 you specified did not match the calculated checksum.")]
#[case::wrong_sha256(NewObject { checksums: vec![(Algorithm::Sha256, "AAAAAA==")], ..NewObject::default() }, "BadDigest", "The SHA256 you specified did not match the calculated checksum.")]
#[case::wrong_md5(NewObject { content_md5: Some("AAAAAAAAAAAAAAAAAAAAAA=="), ..NewObject::default() }, "BadDigest", "The Content-MD5 you specified did not match what we received.")]
#[case::not_md5(NewObject { content_md5: Some("abc"), ..NewObject::default() }, "InvalidDigest", "The Content-MD5 you specified was invalid.")]
#[case::two_checksums(NewObject { checksums: vec![(Algorithm::Crc32, "y/Q5Jg=="), (Algorithm::Crc32c, "4waSgw==")], ..NewObject::default() }, "InvalidRequest", "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.")]
#[case::algorithm_without_checksum(NewObject { algorithm: Some("SHA256"), ..NewObject::default() }, "InvalidRequest", "x-amz-sdk-checksum-algorithm specified, but no corresponding x-amz-checksum-* or x-amz-trailer headers were found.")]
#[case::unknown_algorithm(NewObject { algorithm: Some("MD4"), ..NewObject::default() }, "InvalidRequest", "Checksum algorithm provided is unsupported. Please try again with any of the valid types: [CRC32, CRC32C, CRC64NVME, SHA1, SHA256]")]
fn put_object_refuses_bytes_that_are_not_what_was_declared(#[case] new: NewObject<'static>, #[case] code: &str, #[case] message: &str) {
    let error = put_with(NewObject { body: body(), ..new }).unwrap_err();
    assert_eq!((error.code.as_ref(), error.status, error.message.as_str()), (code, 400, message));
}

#[test]
fn keys_longer_than_1024_bytes_are_refused() {
    let mut fx = Fixture::new();
    let a = fx.admin_a();
    fx.create(&a, "shared", None).unwrap();
    fx.put(&a, "shared", &"k".repeat(1024), b"").unwrap();
    assert_eq!(code(fx.put(&a, "shared", &"k".repeat(1025), b"")), ("KeyTooLongError".to_string(), 400));
}
