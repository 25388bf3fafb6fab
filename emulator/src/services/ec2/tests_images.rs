//! Tests of the image and snapshot operations on the EC2 wire: members as the query decoder
//! gives them, output under the model's location names, EC2's errors, and sharing between the
//! built-in accounts A and B.

use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Duration, TimeZone, Utc};
use rstest::rstest;

use super::*;
use crate::{
    principal::{Caller, CredentialKind},
    profile::BehaviourProfile,
    state::kms::{create_key, NewKey},
};

const A: &str = "111111111111";
const B: &str = "222222222222";
const REGION: &str = "us-east-1";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().unwrap()
}

fn world() -> World {
    World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline())
}

fn caller(world: &World, key: &str) -> Caller {
    Caller {
        principal: world.principal_of(&world.access_keys[key]).expect("a built-in administrator"),
        access_key_id: key.to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

fn admin_a(world: &World) -> Caller {
    caller(world, "AKIAWANAADMINA000001")
}

fn admin_b(world: &World) -> Caller {
    caller(world, "AKIAWANAADMINB000002")
}

/// A user of account B without any policy.
fn nobody_b(world: &mut World) -> Caller {
    let (iam, ids) = world.iam_and_ids(B).unwrap();
    let user = iam.create_user(ids, B, t0(), "nobody", None, Vec::new()).unwrap().clone();
    let mut caller = admin_b(world);
    caller.principal = crate::principal::Principal::User {
        account: B.to_string(),
        name: user.name,
        path: user.path,
        user_id: user.id,
    };
    caller
}

fn run(world: &mut World, caller: &Caller, action: &str, params: Value, at: DateTime<Utc>) -> Result<Value, AwsError> {
    world.run_due(at);
    let call = Call { caller, region: REGION, now: at, action, params: &params };
    handle(world, &call).expect("an operation of EC2")
}

fn list(items: &[&str]) -> Value {
    Value::List(items.iter().map(|i| Value::from(*i)).collect())
}

fn text_at<'v>(value: &'v Value, path: &[&str]) -> Option<&'v str> {
    path.iter().try_fold(value, |v, name| v.get(name)).and_then(Value::as_str)
}

fn code_and_message(result: Result<Value, AwsError>) -> (String, u16, String) {
    let error = result.expect_err("expected an error");
    (error.code.to_string(), error.status, error.message)
}

fn secs(n: i64) -> Duration {
    Duration::seconds(n)
}

/// A's encrypted image, available at t0 + 20 s: an instance with its root volume encrypted with
/// a key of A that account B may use, imaged at t0 + 5 s. Returns (image id, key ARN).
fn encrypted_image(world: &mut World) -> (String, String) {
    let admin = admin_a(world);
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"kms:*","Resource":"*"}},
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{B}:root"}},"Action":["kms:Decrypt","kms:CreateGrant","kms:DescribeKey"],"Resource":"*"}}]}}"#
    );
    let facts = crate::authz::RequestFacts { caller: &admin, now: t0(), region: REGION };
    let key = create_key(world, facts, NewKey { policy: Some(&policy), ..NewKey::default() }).unwrap().arn;
    let mapping = Value::structure()
        .with("DeviceName", "/dev/xvda")
        .with("Ebs", Value::structure().with("Encrypted", "true").with("KmsKeyId", key.as_str()));
    let params = Value::structure()
        .with("ImageId", "ami-374db956")
        .with("MinCount", "1")
        .with("MaxCount", "1")
        .with("BlockDeviceMapping", Value::List(vec![mapping]));
    let reservation = run(world, &admin, "RunInstances", params, t0()).unwrap();
    let instance_id = text_at(&reservation.get("instancesSet").unwrap().as_list()[0], &["instanceId"]).unwrap().to_string();
    let params = Value::structure()
        .with("InstanceId", instance_id.as_str())
        .with("Name", "golden-1")
        .with("Description", "golden image");
    let created = run(world, &admin, "CreateImage", params, t0() + secs(5)).unwrap();
    world.run_due(t0() + secs(20));
    (text_at(&created, &["imageId"]).unwrap().to_string(), key)
}

fn images_of(answer: &Value) -> Vec<String> {
    answer.get("imagesSet").unwrap().as_list().iter().filter_map(|i| text_at(i, &["imageId"]).map(str::to_string)).collect()
}

#[test]
fn sharing_an_image_makes_it_visible_and_launchable_to_the_other_account() {
    let mut world = world();
    let (image_id, _) = encrypted_image(&mut world);
    let (a, b) = (admin_a(&world), admin_b(&world));
    let at = t0() + secs(20);
    let describe = |owners: &[&str], users: &[&str]| {
        Value::structure().with("Owner", list(owners)).with("ExecutableBy", list(users))
    };

    // Before sharing: B does not see it, and naming it leaves it out.
    let mine = run(&mut world, &a, "DescribeImages", describe(&["self"], &[]), at).unwrap();
    assert_eq!(images_of(&mine), [image_id.as_str()]);
    let image = &mine.get("imagesSet").unwrap().as_list()[0];
    assert_eq!(text_at(image, &["imageState"]), Some("available"));
    let ebs = image.get("blockDeviceMapping").unwrap().as_list()[0].get("ebs").unwrap();
    assert_eq!(ebs.get("encrypted"), Some(&Value::Bool(true)));
    assert!(ebs.get("kmsKeyId").is_none(), "DescribeImages does not show the key: {ebs:?}");
    let named = run(&mut world, &b, "DescribeImages", Value::structure().with("ImageId", list(&[&image_id])), at);
    assert_eq!(images_of(&named.unwrap()), Vec::<String>::new());
    let params = Value::structure().with("ImageId", image_id.as_str()).with("MinCount", "1").with("MaxCount", "1");
    assert_eq!(
        code_and_message(run(&mut world, &b, "RunInstances", params.clone(), at)),
        ("AuthFailure".into(), 400, format!("Not authorized for images: [{image_id}]"))
    );

    let share = Value::structure()
        .with("ImageId", image_id.as_str())
        .with("LaunchPermission", Value::structure().with("Add", Value::List(vec![Value::structure().with("UserId", B)])));
    run(&mut world, &a, "ModifyImageAttribute", share, at).unwrap();
    let shared = run(&mut world, &b, "DescribeImages", describe(&[], &["self"]), at).unwrap();
    assert_eq!(images_of(&shared), [image_id.as_str()]);
    let owned_by_b = run(&mut world, &b, "DescribeImages", describe(&["self"], &[]), at).unwrap();
    assert!(images_of(&owned_by_b).is_empty());
    let by_owner = run(&mut world, &b, "DescribeImages", describe(&[A], &[]), at).unwrap();
    assert_eq!(images_of(&by_owner), [image_id.as_str()]);
    let reservation = run(&mut world, &b, "RunInstances", params, at).unwrap();
    assert_eq!(text_at(&reservation, &["ownerId"]), Some(B));

    let attribute = Value::structure().with("ImageId", image_id.as_str()).with("Attribute", "launchPermission");
    let answer = run(&mut world, &a, "DescribeImageAttribute", attribute.clone(), at).unwrap();
    let permissions = answer.get("launchPermission").unwrap().as_list();
    assert_eq!((permissions.len(), text_at(&permissions[0], &["userId"])), (1, Some(B)));
    assert_eq!(
        code_and_message(run(&mut world, &b, "DescribeImageAttribute", attribute, at)),
        ("AuthFailure".into(), 400, format!("Not authorized for image:{image_id}"))
    );

    // The legacy spelling removes it again.
    let unshare = Value::structure()
        .with("ImageId", image_id.as_str())
        .with("Attribute", "launchPermission")
        .with("OperationType", "remove")
        .with("UserId", list(&[B]));
    run(&mut world, &a, "ModifyImageAttribute", unshare, at).unwrap();
    assert!(images_of(&run(&mut world, &b, "DescribeImages", describe(&[], &["self"]), at).unwrap()).is_empty());
}

#[rstest]
#[case::no_attribute(Value::structure(), "InvalidParameterCombination", "No attributes specified.")]
#[case::bad_user(
    Value::structure().with("OperationType", "add").with("UserId", list(&["not-an-account"])),
    "InvalidAMIAttributeItemValue",
    "Invalid attribute item value \"not-an-account\" for userId item type."
)]
#[case::bad_group(
    Value::structure().with("LaunchPermission", Value::structure().with("Add", Value::List(vec![Value::structure().with("Group", "everyone")]))),
    "InvalidAMIAttributeItemValue",
    "Invalid attribute item value \"everyone\" for UserGroup item type."
)]
#[case::bad_operation(
    Value::structure().with("OperationType", "replace").with("UserId", list(&[B])),
    "InvalidParameterValue",
    "Value (replace) for parameter operationType is invalid."
)]
#[case::public_encrypted(
    Value::structure().with("OperationType", "add").with("UserGroup", list(&["all"])),
    "InvalidParameter",
    "Encrypted images cannot be made public."
)]
fn modify_image_attribute_refuses_bad_input(#[case] members: Value, #[case] code: &str, #[case] message: &str) {
    let mut world = world();
    let (image_id, _) = encrypted_image(&mut world);
    let a = admin_a(&world);
    let Value::Struct(mut fields) = members else { unreachable!() };
    fields.insert(0, ("ImageId".to_string(), Value::from(image_id.as_str())));
    let result = run(&mut world, &a, "ModifyImageAttribute", Value::Struct(fields), t0() + secs(20));
    assert_eq!(code_and_message(result), (code.to_string(), 400, message.to_string()));
}

#[rstest]
#[case::malformed_image("DescribeImages", &[("ImageId", "ami-xyz")], "InvalidAMIID.Malformed", "Invalid id: \"ami-xyz\" (expecting \"ami-...\")")]
#[case::unknown_image("DescribeImages", &[("ImageId", "ami-0123456789abcdef0")], "InvalidAMIID.NotFound", "The image id '[ami-0123456789abcdef0]' does not exist")]
#[case::deregister_unknown("DeregisterImage", &[("ImageId", "ami-0123456789abcdef0")], "InvalidAMIID.NotFound", "The image id '[ami-0123456789abcdef0]' does not exist")]
#[case::deregister_amazons("DeregisterImage", &[("ImageId", "ami-374db956")], "AuthFailure", "Not authorized for image:ami-374db956")]
#[case::copy_without_name("CopyImage", &[("SourceImageId", "ami-374db956"), ("SourceRegion", REGION)], "MissingParameter", "The request must contain the parameter Name")]
#[case::unknown_snapshot("DescribeSnapshots", &[("SnapshotId", "snap-0123456789abcdef0")], "InvalidSnapshot.NotFound", "The snapshot 'snap-0123456789abcdef0' does not exist.")]
#[case::malformed_snapshot("DeleteSnapshot", &[("SnapshotId", "snapshot-1")], "InvalidSnapshotID.Malformed", "Invalid id: \"snapshot-1\" (expecting \"snap-...\")")]
#[case::snapshot_without_volume("CreateSnapshot", &[], "MissingParameter", "The request must contain the parameter VolumeId")]
#[case::unknown_attribute("DescribeSnapshotAttribute", &[("SnapshotId", "snap-0123456789abcdef0"), ("Attribute", "owner")], "InvalidParameterValue", "Value (owner) for parameter attribute is invalid. Unknown attribute.")]
#[case::copy_unknown_snapshot("CopySnapshot", &[("SourceRegion", REGION), ("SourceSnapshotId", "snap-0123456789abcdef0")], "InvalidSnapshot.NotFound", "The snapshot 'snap-0123456789abcdef0' does not exist.")]
fn bad_requests_get_ec2s_errors(#[case] action: &str, #[case] members: &[(&str, &str)], #[case] code: &str, #[case] message: &str) {
    let mut world = world();
    let a = admin_a(&world);
    let params = members.iter().fold(Value::structure(), |p, (name, value)| p.with(name, *value));
    let result = run(&mut world, &a, action, params, t0());
    assert_eq!(code_and_message(result), (code.to_string(), 400, message.to_string()));
}

#[test]
fn every_operation_asks_iam_with_its_action() {
    let mut world = world();
    let nobody = nobody_b(&mut world);
    let cases = [
        ("DescribeImages", Value::structure(), "ec2:DescribeImages"),
        ("DescribeSnapshots", Value::structure(), "ec2:DescribeSnapshots"),
        (
            "CopyImage",
            Value::structure().with("Name", "copy").with("SourceImageId", "ami-374db956").with("SourceRegion", REGION),
            "ec2:CopyImage",
        ),
        ("RegisterImage", Value::structure().with("Name", "registered"), "ec2:RegisterImage"),
        (
            "CopySnapshot",
            Value::structure().with("SourceRegion", REGION).with("SourceSnapshotId", "snap-0a1b2c3d4e5f60001"),
            "ec2:CopySnapshot",
        ),
    ];
    for (operation, params, action) in cases {
        let (code, status, message) = code_and_message(run(&mut world, &nobody, operation, params, t0()));
        assert_eq!((code.as_str(), status), ("UnauthorizedOperation", 403), "{operation}");
        assert!(message.contains(&format!("is not authorized to perform: {action}")), "{operation}: {message}");
    }
}

#[test]
fn snapshots_round_trip_their_create_volume_permission() {
    let mut world = world();
    let (image_id, key) = encrypted_image(&mut world);
    let (a, b) = (admin_a(&world), admin_b(&world));
    let at = t0() + secs(20);
    let mine = run(&mut world, &a, "DescribeSnapshots", Value::structure().with("Owner", list(&["self"])), at).unwrap();
    let snapshots = mine.get("snapshotSet").unwrap().as_list();
    assert_eq!(snapshots.len(), 1);
    let snapshot = &snapshots[0];
    let snapshot_id = text_at(snapshot, &["snapshotId"]).unwrap().to_string();
    assert_eq!(text_at(snapshot, &["status"]), Some("completed"));
    assert_eq!(text_at(snapshot, &["kmsKeyId"]), Some(key.as_str()));
    assert_eq!(snapshot.get("encrypted"), Some(&Value::Bool(true)));
    assert_eq!(text_at(snapshot, &["ownerId"]), Some(A));
    let filtered = Value::structure().with(
        "Filter",
        Value::List(vec![Value::structure().with("Name", "owner-id").with("Value", list(&[B]))]),
    );
    assert!(run(&mut world, &a, "DescribeSnapshots", filtered, at).unwrap().get("snapshotSet").unwrap().as_list().is_empty());

    let named = Value::structure().with("SnapshotId", list(&[&snapshot_id]));
    assert_eq!(code_and_message(run(&mut world, &b, "DescribeSnapshots", named.clone(), at)).0, "InvalidSnapshot.NotFound");
    let share = Value::structure().with("SnapshotId", snapshot_id.as_str()).with(
        "CreateVolumePermission",
        Value::structure().with("Add", Value::List(vec![Value::structure().with("UserId", B)])),
    );
    run(&mut world, &a, "ModifySnapshotAttribute", share, at).unwrap();
    let seen = run(&mut world, &b, "DescribeSnapshots", named, at).unwrap();
    assert_eq!(seen.get("snapshotSet").unwrap().as_list().len(), 1);
    let restorable = Value::structure().with("RestorableBy", list(&["self"]));
    assert_eq!(run(&mut world, &b, "DescribeSnapshots", restorable, at).unwrap().get("snapshotSet").unwrap().as_list().len(), 1);
    let attribute = Value::structure().with("SnapshotId", snapshot_id.as_str()).with("Attribute", "createVolumePermission");
    let answer = run(&mut world, &a, "DescribeSnapshotAttribute", attribute, at).unwrap();
    assert_eq!(text_at(&answer.get("createVolumePermission").unwrap().as_list()[0], &["userId"]), Some(B));

    // The image's snapshot cannot go while the image is registered.
    let delete = Value::structure().with("SnapshotId", snapshot_id.as_str());
    assert_eq!(
        code_and_message(run(&mut world, &a, "DeleteSnapshot", delete.clone(), at)),
        ("InvalidSnapshot.InUse".into(), 400, format!("The snapshot {snapshot_id} is currently in use by {image_id}"))
    );
    let deregister = Value::structure().with("ImageId", image_id.as_str()).with("DeleteAssociatedSnapshots", "true");
    let answer = run(&mut world, &a, "DeregisterImage", deregister, at).unwrap();
    let result = &answer.get("deleteSnapshotResultSet").unwrap().as_list()[0];
    assert_eq!((text_at(result, &["snapshotId"]), text_at(result, &["returnCode"])), (Some(snapshot_id.as_str()), Some("success")));
}

#[test]
fn copy_image_into_b_with_bs_key_and_a_snapshot_of_a_volume() {
    let mut world = world();
    let (image_id, _) = encrypted_image(&mut world);
    let (a, b) = (admin_a(&world), admin_b(&world));
    let at = t0() + secs(20);
    let snapshot_id = {
        let answer = run(&mut world, &a, "DescribeSnapshots", Value::structure().with("Owner", list(&["self"])), at).unwrap();
        text_at(&answer.get("snapshotSet").unwrap().as_list()[0], &["snapshotId"]).unwrap().to_string()
    };
    for (action, params) in [
        ("ModifyImageAttribute", Value::structure().with("ImageId", image_id.as_str()).with("OperationType", "add").with("UserId", list(&[B]))),
        ("ModifySnapshotAttribute", Value::structure().with("SnapshotId", snapshot_id.as_str()).with("OperationType", "add").with("UserId", list(&[B]))),
    ] {
        run(&mut world, &a, action, params, at).unwrap();
    }
    let facts = crate::authz::RequestFacts { caller: &b, now: at, region: REGION };
    let key_b = create_key(&mut world, facts, NewKey::default()).unwrap().arn;
    let copy = Value::structure()
        .with("Name", "golden-1-b")
        .with("SourceImageId", image_id.as_str())
        .with("SourceRegion", REGION)
        .with("Encrypted", "true")
        .with("KmsKeyId", key_b.as_str());
    let copied = run(&mut world, &b, "CopyImage", copy, at).unwrap();
    let copy_id = text_at(&copied, &["imageId"]).unwrap().to_string();
    let mine = run(&mut world, &b, "DescribeImages", Value::structure().with("Owner", list(&["self"])), at + secs(10)).unwrap();
    let image = &mine.get("imagesSet").unwrap().as_list()[0];
    assert_eq!((text_at(image, &["imageId"]), text_at(image, &["imageState"])), (Some(copy_id.as_str()), Some("available")));
    assert_eq!(text_at(image, &["sourceImageId"]), Some(image_id.as_str()));
    let copy_snapshot = text_at(&image.get("blockDeviceMapping").unwrap().as_list()[0], &["ebs", "snapshotId"]).unwrap();
    let snapshots = run(&mut world, &b, "DescribeSnapshots", Value::structure().with("SnapshotId", list(&[copy_snapshot])), at + secs(10)).unwrap();
    assert_eq!(text_at(&snapshots.get("snapshotSet").unwrap().as_list()[0], &["kmsKeyId"]), Some(key_b.as_str()));

    // CreateSnapshot answers the new snapshot itself.
    let volume = run(
        &mut world,
        &b,
        "CreateVolume",
        Value::structure().with("AvailabilityZone", "us-east-1a").with("Size", "4"),
        at,
    )
    .unwrap();
    let volume_id = text_at(&volume, &["volumeId"]).unwrap();
    let params = Value::structure().with("VolumeId", volume_id).with("Description", "before upgrade");
    let snapshot = run(&mut world, &b, "CreateSnapshot", params, at).unwrap();
    assert_eq!(
        (text_at(&snapshot, &["status"]), text_at(&snapshot, &["volumeId"]), text_at(&snapshot, &["description"])),
        (Some("pending"), Some(volume_id), Some("before upgrade"))
    );
    assert_eq!(snapshot.get("volumeSize"), Some(&Value::Int(4)));
}
