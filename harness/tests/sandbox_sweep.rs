//! `cleanup`'s sweep on an account where a run of another machine (no ledger here) left
//! resources of every kind it recognises, more of each than one page holds: the plan lists each
//! one, and nothing without a run's mark; after deleting, a second plan finds nothing.

use std::collections::BTreeSet;

use aws_sdk_ec2::types::{ResourceType, TagSpecification};
use wana_emulator::{Emulator, EmulatorConfig};
use wana_harness::{
    principal::Principal,
    sandbox::{
        self,
        cleanup::{self, CleanupOptions, Pages},
        ProfileFileKind, ProfileFiles, SandboxConfig,
    },
};

const A: (&str, &str) = ("AKIAWANAADMINA000001", "wanaAdminSecretForAccountA00000000000001");
const TRAP: &str = "sweep-test";
const AMI: &str = "ami-374db956";
const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
const ROLE_TEMPLATE: &str = r#"{"Resources":{"Role":{"Type":"AWS::IAM::Role","Properties":{"AssumeRolePolicyDocument":{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}}}}}"#;
const DOCUMENT: &str = "schemaVersion: \"2.2\"\ndescription: d\nmainSteps:\n- action: aws:runShellScript\n  name: run\n  inputs:\n    runCommand: [\"true\"]\n";
/// More of each kind than a page of the sweep holds (`Pages::of(5)`).
const MANY: usize = 6;

/// A run id as `new_run_id` makes them, for a run that started two days ago.
fn old_run_id() -> String {
    let started = chrono::Utc::now().timestamp() - 2 * 24 * 3600;
    let mut digits = Vec::new();
    let mut value = started as u64;
    for _ in 0..6 {
        digits.push(b"0123456789abcdefghijklmnopqrstuvwxyz"[(value % 36) as usize]);
        value /= 36;
    }
    digits.reverse();
    format!("wana-{TRAP}-{}aa", String::from_utf8(digits).unwrap())
}

fn config(emulator: &Emulator, dir: &std::path::Path) -> (SandboxConfig, ProfileFiles) {
    let text = format!(
        "region = \"us-east-1\"\nendpoint_url = \"{}\"\nruns_dir = \"runs\"\nallowed_account_ids = [\"111111111111\"]\n[accounts.a]\nprofile = \"sbx-a\"\n",
        emulator.endpoint_url()
    );
    let config = SandboxConfig::parse(&text, &dir.join("wana.toml")).unwrap();
    let credentials = format!("[sbx-a]\naws_access_key_id = {}\naws_secret_access_key = {}\n", A.0, A.1);
    (config, ProfileFiles::builder().with_contents(ProfileFileKind::Credentials, credentials).build())
}

/// The run's tags, expired an hour ago.
fn run_tags(run: &str) -> [(&'static str, String); 2] {
    let expired = (chrono::Utc::now() - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    [("wana:run-id", run.to_string()), ("wana:expires-at", expired)]
}

/// What the killed run left, as (kind, id) the way cleanup names them; and some look-alikes
/// without a run's mark.
async fn leave_resources(admin: &Principal, run: &str) -> BTreeSet<(String, String)> {
    let mut left = BTreeSet::new();
    let mut add = |kind: &str, id: &str| left.insert((kind.to_string(), id.to_string()));
    let tags = run_tags(run);

    let iam = admin.iam();
    for n in 0..MANY {
        let role = format!("{run}-role-{n}");
        iam.create_role().role_name(&role).assume_role_policy_document(TRUST).send().await.unwrap();
        add("iam-role", &role);
        let user = format!("{run}-user-{n}");
        iam.create_user().user_name(&user).send().await.unwrap();
        add("iam-user", &user);
        let profile = format!("{run}-profile-{n}");
        iam.create_instance_profile().instance_profile_name(&profile).send().await.unwrap();
        add("iam-instance-profile", &profile);
    }
    iam.create_role().role_name("someone-elses-role").assume_role_policy_document(TRUST).send().await.unwrap();

    let kms = aws_sdk_kms::Client::new(&admin.config);
    let kms_tags: Vec<aws_sdk_kms::types::Tag> =
        tags.iter().map(|(k, v)| aws_sdk_kms::types::Tag::builder().tag_key(*k).tag_value(v).build().unwrap()).collect();
    for n in 0..MANY {
        // A key with the run's tags and no alias (the run died before making one).
        let key = kms.create_key().set_tags(Some(kms_tags.clone())).send().await.unwrap();
        add("kms-key", key.key_metadata().unwrap().arn().unwrap());
        // A key without tags, found through its alias.
        let key = kms.create_key().send().await.unwrap();
        let arn = key.key_metadata().unwrap().arn().unwrap().to_string();
        let alias = format!("alias/{run}-{n}");
        kms.create_alias().alias_name(&alias).target_key_id(&arn).send().await.unwrap();
        add("kms-key", &arn);
        add("kms-alias", &alias);
    }
    let pending = kms.create_key().set_tags(Some(kms_tags.clone())).send().await.unwrap();
    kms.schedule_key_deletion().key_id(pending.key_metadata().unwrap().key_id()).pending_window_in_days(7).send().await.unwrap();
    kms.create_key().send().await.unwrap();

    let ec2 = aws_sdk_ec2::Client::new(&admin.config);
    let mut spec = TagSpecification::builder().resource_type(ResourceType::Instance);
    for (k, v) in &tags {
        spec = spec.tags(aws_sdk_ec2::types::Tag::builder().key(*k).value(v).build());
    }
    let launched = ec2.run_instances().image_id(AMI).min_count(MANY as i32).max_count(MANY as i32).tag_specifications(spec.build()).send().await.unwrap();
    for instance in launched.instances() {
        add("ec2-instance", instance.instance_id().unwrap());
    }
    ec2.run_instances().image_id(AMI).min_count(1).max_count(1).send().await.unwrap();
    for n in 0..MANY {
        // Launch templates without tags, as the traps make them.
        let template = format!("{run}-template-{n}");
        let data = aws_sdk_ec2::types::RequestLaunchTemplateData::builder().image_id(AMI).build();
        ec2.create_launch_template().launch_template_name(&template).launch_template_data(data).send().await.unwrap();
        add("ec2-launch-template", &template);
        let image = ec2.copy_image().source_image_id(AMI).source_region("us-east-1").name(format!("{run}-image-{n}")).send().await.unwrap();
        add("ec2-image", image.image_id().unwrap());
    }
    let data = aws_sdk_ec2::types::RequestLaunchTemplateData::builder().image_id(AMI).build();
    ec2.create_launch_template().launch_template_name("other-template").launch_template_data(data).send().await.unwrap();

    let autoscaling = aws_sdk_autoscaling::Client::new(&admin.config);
    for n in 0..MANY {
        let group = format!("{run}-group-{n}");
        let template = aws_sdk_autoscaling::types::LaunchTemplateSpecification::builder()
            .launch_template_name(format!("{run}-template-0"))
            .version("$Latest")
            .build();
        let mut create = autoscaling.create_auto_scaling_group().auto_scaling_group_name(&group).launch_template(template).min_size(0).max_size(0).availability_zones("us-east-1a");
        for (k, v) in &tags {
            create = create.tags(aws_sdk_autoscaling::types::Tag::builder().key(*k).value(v).propagate_at_launch(false).build());
        }
        create.send().await.unwrap();
        add("auto-scaling-group", &group);
    }

    // More stacks than a page of DescribeStacks holds (100); their names carry no run id, their
    // tags do.
    let cfn = aws_sdk_cloudformation::Client::new(&admin.config);
    for n in 0..101 {
        let stack = format!("stack-{n:03}");
        let mut create = cfn
            .create_stack()
            .stack_name(&stack)
            .template_body(ROLE_TEMPLATE)
            .capabilities(aws_sdk_cloudformation::types::Capability::CapabilityIam);
        for (k, v) in &tags {
            create = create.tags(aws_sdk_cloudformation::types::Tag::builder().key(*k).value(v).build());
        }
        create.send().await.unwrap();
        add("cloudformation-stack", &stack);
    }

    let s3 = aws_sdk_s3::Client::new(&admin.config);
    let ssm = aws_sdk_ssm::Client::new(&admin.config);
    for n in 0..MANY {
        let bucket = format!("{run}-bucket-{n}");
        s3.create_bucket().bucket(&bucket).send().await.unwrap();
        add("s3-bucket", &bucket);
        let document = format!("{run}-document-{n}");
        ssm.create_document()
            .name(&document)
            .content(DOCUMENT)
            .document_type(aws_sdk_ssm::types::DocumentType::Command)
            .document_format(aws_sdk_ssm::types::DocumentFormat::Yaml)
            .send()
            .await
            .unwrap();
        add("ssm-document", &document);
    }
    s3.create_bucket().bucket("someone-elses-bucket").send().await.unwrap();
    left
}

fn listed(plan: &cleanup::Plan) -> BTreeSet<(String, String)> {
    plan.leftovers.iter().map(|l| (l.kind.name().to_string(), l.id.clone())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_sweep_finds_every_leftover_across_pages_and_cleanup_deletes_them() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (config, files) = config(&emulator, dir.path());
    let connected = sandbox::connect(&config, &[], Some(&files)).await.unwrap();
    let admin = connected.principal("a").unwrap().clone();
    let run = old_run_id();
    let left = leave_resources(&admin, &run).await;

    let options = CleanupOptions { traps: vec![TRAP.to_string()], pages: Pages::of(5), ..CleanupOptions::default() };
    let plan = cleanup::plan(&config, Some(&files), &options).await.unwrap();
    let found = listed(&plan);
    let missed: Vec<_> = left.difference(&found).collect();
    let extra: Vec<_> = found.difference(&left).collect();
    assert!(missed.is_empty() && extra.is_empty(), "missed {missed:?}\nlisted without a run's mark {extra:?}");
    assert!(plan.leftovers.iter().all(|l| l.run_id.as_deref() == Some(run.as_str())));
    let found_by = |kind: &str| plan.leftovers.iter().find(|l| l.kind.name() == kind).map(|l| l.found_by);
    assert_eq!(found_by("ssm-document"), Some("name"));
    assert_eq!(found_by("ec2-launch-template"), Some("name"));
    assert_eq!(found_by("cloudformation-stack"), Some("tag"));

    // The same with each service's own page sizes.
    let default_pages = cleanup::plan(&config, Some(&files), &CleanupOptions { traps: vec![TRAP.to_string()], ..CleanupOptions::default() }).await.unwrap();
    assert_eq!(listed(&default_pages), left);

    let outcome = cleanup::execute(&plan).await;
    assert!(outcome.failed.is_empty(), "{:?}", outcome.failed);
    let again = cleanup::plan(&config, Some(&files), &options).await.unwrap();
    assert!(again.leftovers.is_empty(), "{:?}", again.leftovers);
}

/// A profile that may not list something: the plan says which listing failed and why, instead of
/// quietly listing less.
#[tokio::test(flavor = "multi_thread")]
async fn a_listing_the_profile_may_not_make_is_a_warning_that_names_it() {
    let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (config, files) = config(&emulator, dir.path());
    let connected = sandbox::connect(&config, &[], Some(&files)).await.unwrap();
    let iam = connected.principal("a").unwrap().iam();
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"},{"Effect":"Deny","Action":"kms:ListKeys","Resource":"*"}]}"#;
    iam.create_user().user_name("sweeper").send().await.unwrap();
    iam.put_user_policy().user_name("sweeper").policy_name("all-but-list-keys").policy_document(policy).send().await.unwrap();
    let key = iam.create_access_key().user_name("sweeper").send().await.unwrap();
    let key = key.access_key().unwrap();
    let credentials = format!("[sbx-a]\naws_access_key_id = {}\naws_secret_access_key = {}\n", key.access_key_id(), key.secret_access_key());
    let files = ProfileFiles::builder().with_contents(ProfileFileKind::Credentials, credentials).build();

    let options = CleanupOptions { traps: vec![TRAP.to_string()], ..CleanupOptions::default() };
    let plan = cleanup::plan(&config, Some(&files), &options).await.unwrap();
    assert_eq!(
        plan.warnings,
        ["account a: kms:ListKeys: AccessDeniedException: User: arn:aws:iam::111111111111:user/sweeper is not authorized to perform: kms:ListKeys on resource: * with an explicit deny in an identity-based policy; what it would list was not swept"]
    );
}
