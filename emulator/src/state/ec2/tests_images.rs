//! Tests of images and snapshots: an image of account A encrypted with A's key, shared with
//! account B, launched by B's callers (the key used as each of them), copied into B with B's
//! key, and the errors and attribute round trips on the way.

use std::net::{IpAddr, Ipv4Addr};

use chrono::TimeZone;

use super::*;
use crate::{
    authz::RequestFacts,
    principal::{Caller, CredentialKind, Principal},
    profile::BehaviourProfile,
    state::kms::{create_key, default_ebs_key_arn, NewKey},
};

const A: &str = "111111111111";
const B: &str = "222222222222";
const REGION: &str = "ap-northeast-1";

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).single().unwrap()
}

fn secs(n: i64) -> Duration {
    Duration::seconds(n)
}

fn world() -> World {
    World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline())
}

fn user(account: &str, name: &str, user_id: &str) -> Caller {
    Caller {
        principal: Principal::User {
            account: account.to_string(),
            name: name.to_string(),
            path: "/".to_string(),
            user_id: user_id.to_string(),
        },
        access_key_id: "AKIAWANATEST00000001".to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

/// The built-in administrator of an account (AdministratorAccess).
fn admin(world: &World, account: &str) -> Caller {
    let admin = world.iam(account).unwrap().user("admin").unwrap();
    user(account, &admin.name, &admin.id)
}

/// A caller of account B that no policy allows anything.
fn outsider_b() -> Caller {
    user(B, "automation", "AIDAWANAEXAMPLE000009")
}

fn facts(caller: &Caller, now: DateTime<Utc>) -> RequestFacts<'_> {
    RequestFacts { caller, now, region: REGION }
}

/// A customer managed key of A whose policy lets account B use it (Trap 2's setup).
fn shared_key(world: &mut World, admin_a: &Caller) -> String {
    let policy = format!(
        r#"{{"Version":"2012-10-17","Statement":[
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{A}:root"}},"Action":"kms:*","Resource":"*"}},
            {{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{B}:root"}},"Action":["kms:Encrypt","kms:Decrypt","kms:ReEncrypt*","kms:GenerateDataKey*","kms:DescribeKey","kms:CreateGrant"],"Resource":"*"}}]}}"#
    );
    create_key(world, facts(admin_a, t0()), NewKey { policy: Some(&policy), ..NewKey::default() }).unwrap().arn
}

fn launch_spec(image_id: &str) -> LaunchSpec {
    LaunchSpec {
        image_id: image_id.to_string(),
        instance_type: "t3.micro".to_string(),
        min_count: 1,
        max_count: 1,
        ..LaunchSpec::default()
    }
}

fn launch_as(world: &mut World, caller: &Caller, account: &str, image_id: &str, at: DateTime<Utc>) -> Result<String, AwsError> {
    let launched = launch(world, facts(caller, at), account, &launch_spec(image_id))?;
    Ok(launched.instance_ids[0].clone())
}

fn state_of(world: &mut World, account: &str, id: &str, at: DateTime<Utc>) -> InstanceStateName {
    world.run_due(at);
    instance(world, account, REGION, id).unwrap().state
}

fn image_of(world: &World, account: &str, id: &str) -> Image {
    visible_image(world, account, REGION, id).unwrap()
}

/// A's image: an instance launched with its root volume encrypted with `key`, then imaged.
/// Returns the image id, available at `t0() + 20 s`.
fn encrypted_image(world: &mut World, admin_a: &Caller, key: &str) -> String {
    let mut spec = launch_spec("ami-374db956");
    spec.block_devices = vec![BlockDeviceSpec {
        device_name: "/dev/xvda".to_string(),
        no_device: false,
        ebs: Some(EbsSpec { encrypted: Some(true), kms_key_id: Some(key.to_string()), ..EbsSpec::default() }),
    }];
    let instance_id = launch(world, facts(admin_a, t0()), A, &spec).unwrap().instance_ids[0].clone();
    assert_eq!(state_of(world, A, &instance_id, t0() + secs(5)), InstanceStateName::Running);
    let name = NewImage { name: "golden-1", ..NewImage::default() };
    let image_id = create_image(world, facts(admin_a, t0() + secs(10)), A, &instance_id, &name, &[]).unwrap();
    world.run_due(t0() + secs(20));
    image_id
}

fn share_with(account: &str) -> PermissionChange {
    PermissionChange { add: vec![Permission::user(account)], remove: Vec::new() }
}

#[test]
fn an_image_of_an_instance_is_pending_then_available_with_snapshots_of_its_volumes() {
    let mut world = world();
    let admin_a = admin(&world, A);
    let key = shared_key(&mut world, &admin_a);
    let mut spec = launch_spec("ami-374db956");
    spec.block_devices = vec![BlockDeviceSpec {
        device_name: "/dev/xvda".to_string(),
        no_device: false,
        ebs: Some(EbsSpec { encrypted: Some(true), kms_key_id: Some(key.clone()), ..EbsSpec::default() }),
    }];
    let instance_id = launch(&mut world, facts(&admin_a, t0()), A, &spec).unwrap().instance_ids[0].clone();
    // A pending instance cannot be imaged yet.
    let name = NewImage { name: "golden-1", ..NewImage::default() };
    let error = create_image(&mut world, facts(&admin_a, t0()), A, &instance_id, &name, &[]).unwrap_err();
    assert_eq!(error.code, "IncorrectInstanceState");
    world.run_due(t0() + secs(5));

    let image_id = create_image(&mut world, facts(&admin_a, t0() + secs(5)), A, &instance_id, &name, &[]).unwrap();
    let image = image_of(&world, A, &image_id);
    assert_eq!((image.state, image.root_device_name.as_str()), (ImageState::Pending, "/dev/xvda"));
    let [device] = image.block_devices.as_slice() else { panic!("{:?}", image.block_devices) };
    assert_eq!((device.snapshot.encrypted, device.snapshot.kms_key_id.as_deref()), (true, Some(key.as_str())));
    let snapshot = owned_snapshot(&world, A, REGION, &device.snapshot.snapshot_id).unwrap();
    assert_eq!((snapshot.state, snapshot.volume_size), (SnapshotState::Pending, 8));
    assert!(snapshot.description.starts_with(&format!("Created by CreateImage({instance_id}) for {image_id} from vol-")));
    // A pending image cannot be launched.
    let error = launch_as(&mut world, &admin_a, A, &image_id, t0() + secs(6)).unwrap_err();
    assert_eq!(
        (error.code.as_ref(), error.message.clone()),
        ("InvalidAMIID.Unavailable", format!("AMI {image_id} is pending, and cannot be run."))
    );

    world.run_due(t0() + secs(15));
    assert_eq!(image_of(&world, A, &image_id).state, ImageState::Available);
    let snapshot = owned_snapshot(&world, A, REGION, &device.snapshot.snapshot_id).unwrap();
    assert_eq!((snapshot.state, snapshot.progress()), (SnapshotState::Completed, "100%"));
    // The name is taken now.
    let error = create_image(&mut world, facts(&admin_a, t0() + secs(15)), A, &instance_id, &name, &[]).unwrap_err();
    assert_eq!(error.message, format!("AMI name golden-1 is already in use by AMI {image_id}"));
}

#[test]
fn a_private_image_of_another_account_launches_only_once_shared() {
    let mut world = world();
    let admin_a = admin(&world, A);
    let admin_b = admin(&world, B);
    let key = shared_key(&mut world, &admin_a);
    let image_id = encrypted_image(&mut world, &admin_a, &key);
    let at = t0() + secs(20);

    assert!(visible_images(&world, B, REGION).iter().all(|i| i.id != image_id));
    let error = launch_as(&mut world, &admin_b, B, &image_id, at).unwrap_err();
    assert_eq!(
        (error.code.as_ref(), error.status, error.message.clone()),
        ("AuthFailure", 400, format!("Not authorized for images: [{image_id}]"))
    );

    modify_launch_permission(&mut world, A, REGION, &image_id, &share_with(B)).unwrap();
    assert!(visible_images(&world, B, REGION).iter().any(|i| i.id == image_id));
    assert_eq!(launch_permissions(&world, A, REGION, &image_id).unwrap(), [Permission::user(B)]);
    // B sees the image but may not change or read its attributes.
    let error = modify_launch_permission(&mut world, B, REGION, &image_id, &share_with(B)).unwrap_err();
    assert_eq!((error.code.as_ref(), error.message.clone()), ("AuthFailure", format!("Not authorized for image:{image_id}")));

    // B's administrator: A's key policy names B and B's IAM allows kms:*, so EC2 uses the key.
    let id = launch_as(&mut world, &admin_b, B, &image_id, at).unwrap();
    assert_eq!(last_launch_failure(&world, B, REGION, &id), None);
    assert_eq!(state_of(&mut world, B, &id, at + secs(5)), InstanceStateName::Running);
    let volume_id = instance(&world, B, REGION, &id).unwrap().block_devices[0].volume_id.clone();
    let volume = existing_volume(&world, B, REGION, &volume_id).unwrap();
    assert_eq!(volume.kms_key_id.as_deref(), Some(key.as_str()));

    // Removing the permission takes the image away again.
    let unshare = PermissionChange { add: Vec::new(), remove: vec![Permission::user(B)] };
    modify_launch_permission(&mut world, A, REGION, &image_id, &unshare).unwrap();
    assert_eq!(launch_as(&mut world, &admin_b, B, &image_id, at + secs(6)).unwrap_err().code, "AuthFailure");
}

#[test]
fn the_snapshot_key_of_a_shared_image_is_used_as_the_caller() {
    let mut world = world();
    let admin_a = admin(&world, A);
    let key = shared_key(&mut world, &admin_a);
    let image_id = encrypted_image(&mut world, &admin_a, &key);
    modify_launch_permission(&mut world, A, REGION, &image_id, &share_with(B)).unwrap();
    let at = t0() + secs(20);

    // B's caller has no IAM permission on A's key: the launch is accepted, then fails.
    let outsider = outsider_b();
    let id = launch_as(&mut world, &outsider, B, &image_id, at).unwrap();
    assert_eq!(instance(&world, B, REGION, &id).unwrap().state, InstanceStateName::Pending);
    let denied = last_launch_failure(&world, B, REGION, &id).cloned().unwrap();
    assert_eq!((denied.action.as_str(), denied.key_arn.as_str()), ("kms:CreateGrant", key.as_str()));
    assert!(denied.message.contains("because no identity-based policy allows the kms:CreateGrant action"), "{}", denied.message);
    assert_eq!(state_of(&mut world, B, &id, at + secs(5)), InstanceStateName::ShuttingDown);
    assert_eq!(state_of(&mut world, B, &id, at + secs(10)), InstanceStateName::Terminated);
    let terminated = instance(&world, B, REGION, &id).unwrap();
    assert_eq!(terminated.state_reason.as_ref().map(|r| r.code.as_str()), Some("Client.InternalError"));
}

#[test]
fn re_encrypting_at_launch_uses_the_snapshot_key_too() {
    let mut world = world();
    let admin_a = admin(&world, A);
    let key = shared_key(&mut world, &admin_a);
    let image_id = encrypted_image(&mut world, &admin_a, &key);
    modify_launch_permission(&mut world, A, REGION, &image_id, &share_with(B)).unwrap();
    // B's own key, which the outsider may not use either; the snapshot's key is used first.
    let admin_b = admin(&world, B);
    let key_b = create_key(&mut world, facts(&admin_b, t0()), NewKey::default()).unwrap().arn;
    let mut spec = launch_spec(&image_id);
    spec.block_devices = vec![BlockDeviceSpec {
        device_name: "/dev/xvda".to_string(),
        no_device: false,
        ebs: Some(EbsSpec { encrypted: Some(true), kms_key_id: Some(key_b.clone()), ..EbsSpec::default() }),
    }];
    let at = t0() + secs(20);
    let outsider = outsider_b();
    let id = launch(&mut world, facts(&outsider, at), B, &spec).unwrap().instance_ids[0].clone();
    assert_eq!(last_launch_failure(&world, B, REGION, &id).map(|d| d.key_arn.as_str()), Some(key.as_str()));
    // B's administrator may use both keys: the volume gets B's key.
    let id = launch(&mut world, facts(&admin_b, at), B, &spec).unwrap().instance_ids[0].clone();
    assert_eq!(state_of(&mut world, B, &id, at + secs(5)), InstanceStateName::Running);
    let volume_id = instance(&world, B, REGION, &id).unwrap().block_devices[0].volume_id.clone();
    assert_eq!(existing_volume(&world, B, REGION, &volume_id).unwrap().kms_key_id.as_deref(), Some(key_b.as_str()));
}

#[test]
fn copying_the_image_into_b_re_encrypts_its_snapshots_with_bs_key() {
    let mut world = world();
    let admin_a = admin(&world, A);
    let admin_b = admin(&world, B);
    let key = shared_key(&mut world, &admin_a);
    let image_id = encrypted_image(&mut world, &admin_a, &key);
    modify_launch_permission(&mut world, A, REGION, &image_id, &share_with(B)).unwrap();
    let key_b = create_key(&mut world, facts(&admin_b, t0()), NewKey::default()).unwrap().arn;
    let at = t0() + secs(20);
    let copy = ImageCopy {
        image: NewImage { name: "golden-1-b", ..NewImage::default() },
        source_image_id: &image_id,
        source_region: REGION,
        encrypted: Some(true),
        kms_key_id: Some(&key_b),
        ..ImageCopy::default()
    };

    // Sharing the image is not enough to copy it: its snapshot must be shared too.
    let error = copy_image(&mut world, facts(&admin_b, at), B, &copy).unwrap_err();
    assert_eq!(
        (error.code.as_ref(), error.message.as_str()),
        ("InvalidRequest", "You do not have permission to access the storage of this ami")
    );
    let snapshot_id = image_of(&world, A, &image_id).block_devices[0].snapshot.snapshot_id.clone();
    modify_create_volume_permission(&mut world, A, REGION, &snapshot_id, &share_with(B)).unwrap();
    assert_eq!(create_volume_permissions(&world, A, REGION, &snapshot_id).unwrap(), [Permission::user(B)]);

    let copy_id = copy_image(&mut world, facts(&admin_b, at), B, &copy).unwrap();
    let copied = owned_image(&world, B, REGION, &copy_id).unwrap();
    assert_eq!((copied.state, copied.source_image.clone()), (ImageState::Pending, Some((image_id.clone(), REGION.to_string()))));
    world.run_due(at + secs(10));
    let copied = owned_image(&world, B, REGION, &copy_id).unwrap();
    assert_eq!(copied.state, ImageState::Available);
    let device = &copied.block_devices[0];
    assert_eq!(device.snapshot.kms_key_id.as_deref(), Some(key_b.as_str()));
    let snapshot = owned_snapshot(&world, B, REGION, &device.snapshot.snapshot_id).unwrap();
    assert_eq!((snapshot.state, snapshot.kms_key_id.as_deref()), (SnapshotState::Completed, Some(key_b.as_str())));

    // Instances of the copy use B's key only: A's key policy no longer matters.
    let id = launch_as(&mut world, &admin_b, B, &copy_id, at + secs(10)).unwrap();
    assert_eq!(state_of(&mut world, B, &id, at + secs(15)), InstanceStateName::Running);
    let volume_id = instance(&world, B, REGION, &id).unwrap().block_devices[0].volume_id.clone();
    assert_eq!(existing_volume(&world, B, REGION, &volume_id).unwrap().kms_key_id.as_deref(), Some(key_b.as_str()));
}

#[test]
fn a_copy_by_a_caller_that_may_not_use_the_keys_fails_when_it_would_complete() {
    let mut world = world();
    let admin_a = admin(&world, A);
    let admin_b = admin(&world, B);
    let key = shared_key(&mut world, &admin_a);
    let image_id = encrypted_image(&mut world, &admin_a, &key);
    modify_launch_permission(&mut world, A, REGION, &image_id, &share_with(B)).unwrap();
    let snapshot_id = image_of(&world, A, &image_id).block_devices[0].snapshot.snapshot_id.clone();
    modify_create_volume_permission(&mut world, A, REGION, &snapshot_id, &share_with(B)).unwrap();
    let at = t0() + secs(20);
    let copy = ImageCopy {
        image: NewImage { name: "golden-1-b", ..NewImage::default() },
        source_image_id: &image_id,
        source_region: REGION,
        ..ImageCopy::default()
    };
    let outsider = outsider_b();
    let copy_id = copy_image(&mut world, facts(&outsider, at), B, &copy).unwrap();
    world.run_due(at + secs(10));
    let copied = owned_image(&world, B, REGION, &copy_id).unwrap();
    assert_eq!(copied.state, ImageState::Failed);
    assert_eq!(
        copied.state_reason.map(|r| r.message),
        Some("AMI snapshot copy failed with error: Given key ID is not accessible".to_string())
    );
    let snapshot = owned_snapshot(&world, B, REGION, &copied.block_devices[0].snapshot.snapshot_id).unwrap();
    assert_eq!((snapshot.state, snapshot.state_message.as_deref()), (SnapshotState::Error, Some("Given key ID is not accessible")));
    assert_eq!(snapshot.failure.map(|f| f.key_arn), Some(key.clone()));
    // Without KmsKeyId, B's copy of A's encrypted snapshot gets B's default EBS key.
    let copy = ImageCopy { image: NewImage { name: "golden-1-c", ..NewImage::default() }, ..copy };
    let copy_id = copy_image(&mut world, facts(&admin_b, at), B, &copy).unwrap();
    let default_b = default_ebs_key_arn(&mut world, B, REGION, at);
    let copied = owned_image(&world, B, REGION, &copy_id).unwrap();
    assert_eq!(copied.block_devices[0].snapshot.kms_key_id, Some(default_b));
    let error = launch_as(&mut world, &admin_b, B, &copy_id, at).unwrap_err();
    assert_eq!(error.code, "InvalidAMIID.Unavailable");
}

#[test]
fn snapshots_are_created_copied_shared_and_deleted() {
    let mut world = world();
    let admin_a = admin(&world, A);
    let admin_b = admin(&world, B);
    let key = shared_key(&mut world, &admin_a);
    let spec = VolumeSpec {
        availability_zone: format!("{REGION}a"),
        size: Some(20),
        encrypted: Some(true),
        kms_key_id: Some(key.clone()),
        ..VolumeSpec::default()
    };
    let volume_id = create_volume(&mut world, facts(&admin_a, t0()), A, &spec).unwrap();
    let snapshot_id = create_snapshot(&mut world, facts(&admin_a, t0()), A, &volume_id, "nightly", Vec::new()).unwrap();
    let snapshot = owned_snapshot(&world, A, REGION, &snapshot_id).unwrap();
    assert_eq!(
        (snapshot.state, snapshot.volume_size, snapshot.encrypted, snapshot.kms_key_id.as_deref()),
        (SnapshotState::Pending, 20, true, Some(key.as_str()))
    );
    // A pending snapshot cannot be copied yet, and B does not see it.
    let copy = SnapshotCopy { source_region: REGION, source_snapshot_id: &snapshot_id, ..SnapshotCopy::default() };
    assert_eq!(copy_snapshot(&mut world, facts(&admin_a, t0()), A, &copy).unwrap_err().code, "IncorrectState");
    world.run_due(t0() + secs(10));
    assert_eq!(find_snapshot(&world, B, REGION, &snapshot_id).unwrap_err().message, format!("The snapshot '{snapshot_id}' does not exist."));

    // The owner's copy keeps the key and names its source.
    let copy_id = copy_snapshot(&mut world, facts(&admin_a, t0() + secs(10)), A, &copy).unwrap();
    let copied = owned_snapshot(&world, A, REGION, &copy_id).unwrap();
    assert_eq!(copied.kms_key_id.as_deref(), Some(key.as_str()));
    assert_eq!((copied.volume_id.as_str(), copied.description.clone()), ("vol-ffffffff", format!("[Copied {snapshot_id} from {REGION}]")));

    // Shared with B, B may restore it; B sees it but may not delete it.
    modify_create_volume_permission(&mut world, A, REGION, &snapshot_id, &share_with(B)).unwrap();
    assert!(visible_snapshots(&world, B, REGION).iter().any(|s| s.id == snapshot_id));
    let error = delete_snapshot(&mut world, B, REGION, &snapshot_id).unwrap_err();
    assert_eq!((error.code.as_ref(), error.message.clone()), ("AuthFailure", format!("Not authorized for snapshot:{snapshot_id}")));
    let restored = VolumeSpec { availability_zone: format!("{REGION}a"), snapshot_id: Some(snapshot_id.clone()), ..VolumeSpec::default() };
    let restored = create_volume(&mut world, facts(&admin_b, t0() + secs(10)), B, &restored).unwrap();
    assert_eq!(existing_volume(&world, B, REGION, &restored).unwrap().kms_key_id.as_deref(), Some(key.as_str()));

    // Encrypted snapshots never become public.
    let public = PermissionChange { add: vec![Permission::all()], remove: Vec::new() };
    let error = modify_create_volume_permission(&mut world, A, REGION, &snapshot_id, &public).unwrap_err();
    assert_eq!(error.code, "OperationNotPermitted");
    delete_snapshot(&mut world, A, REGION, &snapshot_id).unwrap();
    assert_eq!(find_snapshot(&world, A, REGION, &snapshot_id).unwrap_err().code, "InvalidSnapshot.NotFound");
}

#[test]
fn the_aws_managed_key_cannot_be_shared() {
    let mut world = world();
    let admin_a = admin(&world, A);
    let spec = VolumeSpec {
        availability_zone: format!("{REGION}a"),
        size: Some(8),
        encrypted: Some(true),
        ..VolumeSpec::default()
    };
    let volume_id = create_volume(&mut world, facts(&admin_a, t0()), A, &spec).unwrap();
    let snapshot_id = create_snapshot(&mut world, facts(&admin_a, t0()), A, &volume_id, "", Vec::new()).unwrap();
    let error = modify_create_volume_permission(&mut world, A, REGION, &snapshot_id, &share_with(B)).unwrap_err();
    assert_eq!(
        (error.code.as_ref(), error.message.as_str()),
        ("OperationNotPermitted", "Encrypted snapshots with EBS default key cannot be shared")
    );
    world.run_due(t0() + secs(10));
    let registration = Registration {
        image: NewImage { name: "from-snapshot", ..NewImage::default() },
        root_device_name: Some("/dev/xvda"),
        block_devices: vec![RegisteredDevice {
            device_name: "/dev/xvda".to_string(),
            snapshot_id: Some(snapshot_id.clone()),
            ..RegisteredDevice::default()
        }],
        ..Registration::default()
    };
    let image_id = register_image(&mut world, facts(&admin_a, t0() + secs(10)), A, &registration).unwrap();
    let error = modify_launch_permission(&mut world, A, REGION, &image_id, &share_with(B)).unwrap_err();
    assert_eq!(
        (error.code.as_ref(), error.message.as_str()),
        ("InvalidParameter", "Snapshots encrypted with the AWS Managed CMK can't be shared. Specify another snapshot.")
    );
    // The snapshot is the image's: it cannot be deleted until the image is deregistered.
    let error = delete_snapshot(&mut world, A, REGION, &snapshot_id).unwrap_err();
    assert_eq!(error.message, format!("The snapshot {snapshot_id} is currently in use by {image_id}"));
    let deleted = deregister_image(&mut world, A, REGION, &image_id, true).unwrap();
    assert_eq!(deleted, [DeletedSnapshot { snapshot_id: snapshot_id.clone(), return_code: "success" }]);
    assert_eq!(find_snapshot(&world, A, REGION, &snapshot_id).unwrap_err().code, "InvalidSnapshot.NotFound");
    assert_eq!(find_image(&world, A, REGION, &image_id).unwrap_err().code, "InvalidAMIID.NotFound");
}

#[test]
fn register_image_checks_its_mappings() {
    let mut world = world();
    let admin_a = admin(&world, A);
    let device = |snapshot: &str| RegisteredDevice {
        device_name: "/dev/xvda".to_string(),
        snapshot_id: Some(snapshot.to_string()),
        ..RegisteredDevice::default()
    };
    let mut registration = Registration {
        image: NewImage { name: "from-snapshot", ..NewImage::default() },
        root_device_name: Some("/dev/xvda"),
        block_devices: vec![device("snap-0123456789abcdef0")],
        ..Registration::default()
    };
    let mut error = |registration: &Registration<'_>| {
        let error = register_image(&mut world, facts(&admin_a, t0()), A, registration).unwrap_err();
        (error.code.to_string(), error.message)
    };
    assert_eq!(error(&registration), ("InvalidSnapshot.NotFound".into(), "The snapshot 'snap-0123456789abcdef0' does not exist.".into()));
    registration.block_devices = vec![device("snapshot-1")];
    assert_eq!(error(&registration).0, "InvalidSnapshotID.Malformed");
    // The catalogue's snapshots may be registered; the root needs a mapping.
    registration.block_devices = vec![device("snap-0a1b2c3d4e5f60001")];
    registration.root_device_name = Some("/dev/sda1");
    assert_eq!(error(&registration).0, "InvalidBlockDeviceMapping");
    registration.root_device_name = Some("/dev/xvda");
    registration.image.name = "x";
    assert_eq!(error(&registration).0, "InvalidAMIName.Malformed");
    registration.image.name = "from-snapshot";
    let image_id = register_image(&mut world, facts(&admin_a, t0()), A, &registration).unwrap();
    world.run_due(t0() + secs(10));
    assert_eq!(find_image(&world, A, REGION, &image_id).unwrap().block_devices[0].snapshot.size, 8);
}
