use std::net::{IpAddr, Ipv4Addr};

use chrono::{DateTime, Utc};

use super::decode::glob;
use crate::principal::{Caller, CredentialKind, Principal};

// What the handler tests below share.
const ACCOUNT: &str = "111111111111";
const IMAGE: &str = "ami-374db956";
const EC2_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ec2:*","Resource":"*"}]}"#;

fn t0() -> DateTime<Utc> {
    "2026-01-05T10:00:00Z".parse().unwrap()
}

/// A caller signed with a long-term key of an IAM user of `ACCOUNT`.
fn caller(name: &str, user_id: String) -> Caller {
    Caller {
        principal: Principal::User {
            account: ACCOUNT.to_string(),
            name: name.to_string(),
            path: "/".to_string(),
            user_id,
        },
        access_key_id: "AKIAWANAADMINA000001".to_string(),
        credential_kind: CredentialKind::LongTerm,
        source_ip: IpAddr::V4(Ipv4Addr::LOCALHOST),
        token_issued: None,
        via_service: None,
    }
}

/// The account's administrator (AdministratorAccess).
fn admin() -> Caller {
    caller("admin", "AIDAWANAEXAMPLE000001".to_string())
}

#[test]
fn filter_values_are_globs() {
    assert!(glob("i-*", "i-0123"));
    assert!(glob("run?ing", "running"));
    assert!(!glob("stopped", "stopping"));
    assert!(glob("*", ""));
}

// ---------------------------------------------------------------------------------------------
// Launch templates, through the handlers.

mod launch_templates {
    use chrono::Duration;

    use super::super::handle;
    use super::{admin, caller, t0, ACCOUNT, EC2_ONLY, IMAGE};
    use crate::{
        error::AwsError,
        principal::Caller,
        profile::BehaviourProfile,
        services::Call,
        state::{kms, World},
        value::Value,
    };

    const REGION: &str = "ap-northeast-1";

    fn world() -> World {
        World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline())
    }



    /// A user whose only policy is `policy`.
    fn user(world: &mut World, name: &str, policy: &str) -> Caller {
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        let id = iam.create_user(ids, ACCOUNT, t0(), name, None, Vec::new()).unwrap().id.clone();
        iam.put_user_policy(name, "inline", policy).unwrap();
        caller(name, id)
    }

    fn run(world: &mut World, caller: &Caller, action: &str, params: Value) -> Result<Value, AwsError> {
        let call = Call { caller, region: REGION, now: t0(), action, params: &params };
        handle(world, &call).expect("an EC2 operation")
    }

    /// The member at `path` (list items by index).
    fn at<'v>(value: &'v Value, path: &[&str]) -> &'v Value {
        path.iter().fold(value, |v, step| match step.parse::<usize>() {
            Ok(i) => &v.as_list()[i],
            Err(_) => v.get(step).unwrap_or_else(|| panic!("no {step} in {v:?}")),
        })
    }

    fn text<'v>(value: &'v Value, path: &[&str]) -> &'v str {
        at(value, path).as_str().unwrap_or_else(|| panic!("{path:?} is not text"))
    }

    fn int(value: &Value, path: &[&str]) -> i64 {
        at(value, path).as_i64().unwrap()
    }

    fn list(items: Vec<Value>) -> Value {
        Value::List(items)
    }

    fn tag(key: &str, value: &str) -> Value {
        Value::structure().with("Key", key).with("Value", value)
    }

    fn error(result: Result<Value, AwsError>) -> (String, String) {
        let error = result.unwrap_err();
        (error.code.to_string(), error.message)
    }

    /// A template data as the AWS CLI sends it: image, type, an encrypted root volume with the
    /// given key, instance tags.
    fn web_data(key: Option<&str>) -> Value {
        let mut ebs = Value::structure().with("VolumeSize", "10").with("VolumeType", "gp3").with("DeleteOnTermination", "true");
        if let Some(key) = key {
            ebs = ebs.with("Encrypted", "true").with("KmsKeyId", key);
        }
        Value::structure()
            .with("ImageId", IMAGE)
            .with("InstanceType", "t3.small")
            .with("KeyName", "ops")
            .with("BlockDeviceMapping", list(vec![Value::structure().with("DeviceName", "/dev/xvda").with("Ebs", ebs)]))
            .with(
                "TagSpecification",
                list(vec![Value::structure().with("ResourceType", "instance").with("Tag", list(vec![tag("Name", "web")]))]),
            )
            .with("UserData", "IyEvYmluL3NoCg==")
    }

    fn create(world: &mut World, caller: &Caller, name: &str, data: Value) -> Value {
        let params = Value::structure()
            .with("LaunchTemplateName", name)
            .with("VersionDescription", "first")
            .with("LaunchTemplateData", data);
        run(world, caller, "CreateLaunchTemplate", params).unwrap()
    }

    fn run_from(world: &mut World, caller: &Caller, template: Value, extra: &[(&str, &str)]) -> Result<Value, AwsError> {
        let mut params = Value::structure().with("MinCount", "1").with("MaxCount", "1").with("LaunchTemplate", template);
        for (name, value) in extra {
            params.push(name, *value);
        }
        run(world, caller, "RunInstances", params)
    }

    fn by_name(name: &str) -> Value {
        Value::structure().with("LaunchTemplateName", name)
    }

    #[test]
    fn templates_and_versions_answer_under_the_model_names() {
        let mut world = world();
        let admin = admin();
        let params = Value::structure()
            .with("LaunchTemplateName", "web")
            .with("LaunchTemplateData", web_data(Some("alias/app")))
            .with(
                "TagSpecification",
                list(vec![Value::structure().with("ResourceType", "launch-template").with("Tag", list(vec![tag("team", "a")]))]),
            );
        let created = run(&mut world, &admin, "CreateLaunchTemplate", params).unwrap();
        let id = text(&created, &["launchTemplate", "launchTemplateId"]).to_string();
        assert!(id.starts_with("lt-"), "{id}");
        assert_eq!(text(&created, &["launchTemplate", "createdBy"]), "arn:aws:iam::111111111111:user/admin");
        assert_eq!(
            (int(&created, &["launchTemplate", "defaultVersionNumber"]), int(&created, &["launchTemplate", "latestVersionNumber"])),
            (1, 1)
        );
        assert_eq!(text(&created, &["launchTemplate", "tagSet", "0", "key"]), "team");

        // Version 2 from $Latest changes the instance type and inherits the rest.
        let params = by_name("web")
            .with("SourceVersion", "$Latest")
            .with("VersionDescription", "bigger")
            .with("LaunchTemplateData", Value::structure().with("InstanceType", "m5.large"));
        let two = run(&mut world, &admin, "CreateLaunchTemplateVersion", params).unwrap();
        let data = at(&two, &["launchTemplateVersion", "launchTemplateData"]);
        assert_eq!(int(&two, &["launchTemplateVersion", "versionNumber"]), 2);
        assert_eq!(at(&two, &["launchTemplateVersion", "defaultVersion"]), &Value::Bool(false));
        assert_eq!((text(data, &["imageId"]), text(data, &["instanceType"])), (IMAGE, "m5.large"));
        let ebs = at(data, &["blockDeviceMappingSet", "0", "ebs"]);
        assert_eq!((at(ebs, &["encrypted"]), text(ebs, &["kmsKeyId"])), (&Value::Bool(true), "alias/app"));
        assert_eq!(text(data, &["tagSpecificationSet", "0", "tagSet", "0", "value"]), "web");
        assert_eq!(text(data, &["userData"]), "IyEvYmluL3NoCg==");

        let params = Value::structure()
            .with("LaunchTemplateId", id.as_str())
            .with("LaunchTemplateVersion", list(vec!["$Latest".into(), "$Default".into()]));
        let listed = run(&mut world, &admin, "DescribeLaunchTemplateVersions", params).unwrap();
        let versions: Vec<(i64, Option<bool>, Option<&str>)> = at(&listed, &["launchTemplateVersionSet"])
            .as_list()
            .iter()
            .map(|v| {
                (int(v, &["versionNumber"]), at(v, &["defaultVersion"]).as_bool(), v.get("versionDescription").and_then(Value::as_str))
            })
            .collect();
        assert_eq!(versions, [(2, Some(false), Some("bigger")), (1, Some(true), None)]);

        let modified =
            run(&mut world, &admin, "ModifyLaunchTemplate", by_name("web").with("SetDefaultVersion", "2")).unwrap();
        assert_eq!(int(&modified, &["launchTemplate", "defaultVersionNumber"]), 2);
        let filtered = Value::structure().with("LaunchTemplateId", id.as_str()).with(
            "Filter",
            list(vec![Value::structure().with("Name", "is-default-version").with("Value", list(vec!["true".into()]))]),
        );
        let listed = run(&mut world, &admin, "DescribeLaunchTemplateVersions", filtered).unwrap();
        assert_eq!(int(&listed, &["launchTemplateVersionSet", "0", "versionNumber"]), 2);
        assert_eq!(at(&listed, &["launchTemplateVersionSet"]).as_list().len(), 1);

        create(&mut world, &admin, "batch", web_data(None));
        let filter = Value::structure().with(
            "Filter",
            list(vec![Value::structure().with("Name", "launch-template-name").with("Value", list(vec!["we*".into()]))]),
        );
        let described = run(&mut world, &admin, "DescribeLaunchTemplates", filter).unwrap();
        let names: Vec<&str> =
            at(&described, &["launchTemplates"]).as_list().iter().map(|t| text(t, &["launchTemplateName"])).collect();
        assert_eq!(names, ["web"]);
        let all = run(&mut world, &admin, "DescribeLaunchTemplates", Value::structure()).unwrap();
        assert_eq!(at(&all, &["launchTemplates"]).as_list().len(), 2);
    }

    #[test]
    fn errors_have_aws_codes_and_texts() {
        let mut world = world();
        let admin = admin();
        create(&mut world, &admin, "web", web_data(None));
        let missing = run(&mut world, &admin, "DescribeLaunchTemplates", Value::structure().with("LaunchTemplateName", list(vec!["nope".into()])));
        assert_eq!(
            error(missing),
            (
                "InvalidLaunchTemplateName.NotFoundException".into(),
                "At least one of the launch templates specified in the request does not exist.".into()
            )
        );
        let missing = run(&mut world, &admin, "DescribeLaunchTemplateVersions", by_name("timski"));
        assert_eq!(
            error(missing),
            (
                "InvalidLaunchTemplateName.NotFoundException".into(),
                "The specified launch template, with template name timski, does not exist.".into()
            )
        );
        let deleted = run(&mut world, &admin, "DeleteLaunchTemplate", Value::structure().with("LaunchTemplateId", "lt-019c5be5798f24ca7"));
        assert_eq!(error(deleted).0, "InvalidLaunchTemplateId.NotFound");
        let malformed = run(&mut world, &admin, "DeleteLaunchTemplate", Value::structure().with("LaunchTemplateId", "web"));
        assert_eq!(error(malformed).0, "InvalidLaunchTemplateId.Malformed");
        let duplicate = run(
            &mut world,
            &admin,
            "CreateLaunchTemplate",
            Value::structure().with("LaunchTemplateName", "web").with("LaunchTemplateData", web_data(None)),
        );
        assert_eq!(error(duplicate).0, "InvalidLaunchTemplateName.AlreadyExistsException");
        let no_data = run(&mut world, &admin, "CreateLaunchTemplate", Value::structure().with("LaunchTemplateName", "empty"));
        assert_eq!(error(no_data).0, "MissingParameter");
        let no_name = run(&mut world, &admin, "CreateLaunchTemplate", Value::structure().with("LaunchTemplateData", web_data(None)));
        assert_eq!(error(no_name), ("MissingParameter".into(), "The request must contain the parameter LaunchTemplateName".into()));
        let bad_default = run(&mut world, &admin, "ModifyLaunchTemplate", by_name("web").with("SetDefaultVersion", "666"));
        assert_eq!(error(bad_default).0, "InvalidLaunchTemplateId.VersionNotFound");
        let wrong_tags = Value::structure().with("LaunchTemplateName", "other").with("LaunchTemplateData", web_data(None)).with(
            "TagSpecification",
            list(vec![Value::structure().with("ResourceType", "instance").with("Tag", list(vec![tag("a", "b")]))]),
        );
        assert_eq!(error(run(&mut world, &admin, "CreateLaunchTemplate", wrong_tags)).0, "InvalidParameterValue");

        // RunInstances' own template errors.
        let both = Value::structure().with("LaunchTemplateName", "web").with("LaunchTemplateId", "lt-019c5be5798f24ca7");
        assert_eq!(error(run_from(&mut world, &admin, both, &[])).0, "InvalidParameterCombination");
        assert_eq!(error(run_from(&mut world, &admin, Value::structure().with("Version", "1"), &[])).0, "MissingParameter");
        let gone = run_from(&mut world, &admin, by_name("gone"), &[]);
        assert_eq!(error(gone).0, "InvalidLaunchTemplateName.NotFoundException");
        let version = run_from(&mut world, &admin, by_name("web").with("Version", "3"), &[]);
        assert_eq!(error(version).0, "InvalidLaunchTemplateId.VersionNotFound");
        // Nothing was launched by the failed requests.
        assert!(crate::state::ec2::state(&world, ACCOUNT, REGION).is_none_or(|s| s.instances.is_empty()));

        let deleted = run(
            &mut world,
            &admin,
            "DeleteLaunchTemplateVersions",
            by_name("web").with("LaunchTemplateVersion", list(vec!["1".into()])),
        )
        .unwrap();
        assert!(at(&deleted, &["successfullyDeletedLaunchTemplateVersionSet"]).as_list().is_empty());
        assert_eq!(
            text(&deleted, &["unsuccessfullyDeletedLaunchTemplateVersionSet", "0", "responseError", "code"]),
            "unexpectedError"
        );
    }

    #[test]
    fn run_instances_takes_what_the_request_leaves_out_from_the_template() {
        let mut world = world();
        let admin = admin();
        let created = create(&mut world, &admin, "web", web_data(None));
        let id = text(&created, &["launchTemplate", "launchTemplateId"]).to_string();
        let params = by_name("web")
            .with("SourceVersion", "1")
            .with("LaunchTemplateData", Value::structure().with("InstanceType", "c5.large"));
        run(&mut world, &admin, "CreateLaunchTemplateVersion", params).unwrap();

        // No Version: the default one (1), every member from it.
        let launched = run_from(&mut world, &admin, by_name("web"), &[]).unwrap();
        let instance = at(&launched, &["instancesSet", "0"]);
        assert_eq!(
            (text(instance, &["imageId"]), text(instance, &["instanceType"]), text(instance, &["keyName"])),
            (IMAGE, "t3.small", "ops")
        );
        let tags: Vec<(&str, &str)> =
            at(instance, &["tagSet"]).as_list().iter().map(|t| (text(t, &["key"]), text(t, &["value"]))).collect();
        assert_eq!(tags, [("Name", "web"), ("aws:ec2launchtemplate:id", id.as_str()), ("aws:ec2launchtemplate:version", "1")]);
        let volume_id = text(instance, &["blockDeviceMapping", "0", "ebs", "volumeId"]).to_string();
        let volume = crate::state::ec2::existing_volume(&world, ACCOUNT, REGION, &volume_id).unwrap();
        assert_eq!((volume.size, volume.volume_type.as_str(), volume.encrypted), (10, "gp3", false));

        // Request members override the version's: $Latest's type, then the request's.
        let latest = Value::structure().with("LaunchTemplateId", id.as_str()).with("Version", "$Latest");
        let launched = run_from(&mut world, &admin, latest.clone(), &[]).unwrap();
        assert_eq!(text(&launched, &["instancesSet", "0", "instanceType"]), "c5.large");
        assert_eq!(text(&launched, &["instancesSet", "0", "imageId"]), IMAGE);
        let launched = run_from(&mut world, &admin, latest, &[("InstanceType", "t2.micro"), ("KeyName", "mine")]).unwrap();
        let instance = at(&launched, &["instancesSet", "0"]);
        assert_eq!((text(instance, &["instanceType"]), text(instance, &["keyName"])), ("t2.micro", "mine"));

        // A version without a source holds only what it names: here no image, which the request must then give.
        let params = by_name("web").with("LaunchTemplateData", Value::structure().with("InstanceType", "c5.large"));
        run(&mut world, &admin, "CreateLaunchTemplateVersion", params).unwrap();
        let three = by_name("web").with("Version", "3");
        assert_eq!(error(run_from(&mut world, &admin, three.clone(), &[])).0, "MissingParameter");
        let launched = run_from(&mut world, &admin, three, &[("ImageId", IMAGE)]).unwrap();
        assert_eq!(text(&launched, &["instancesSet", "0", "instanceType"]), "c5.large");
    }

    #[test]
    fn a_template_key_the_caller_may_not_use_terminates_the_launch() {
        let mut world = world();
        let admin = admin();
        let facts = crate::authz::RequestFacts { caller: &admin, now: t0(), region: REGION };
        let key = kms::create_key(&mut world, facts, kms::NewKey::default()).unwrap().arn;
        create(&mut world, &admin, "encrypted", web_data(Some(&key)));
        let launcher = user(&mut world, "launcher", EC2_ONLY);

        let launched = run_from(&mut world, &launcher, by_name("encrypted"), &[]).unwrap();
        let instance = at(&launched, &["instancesSet", "0"]);
        let id = text(instance, &["instanceId"]).to_string();
        assert_eq!(text(instance, &["instanceState", "name"]), "pending");
        let state_at = |world: &mut World, seconds: i64| {
            world.run_due(t0() + Duration::seconds(seconds));
            let described = run(world, &admin, "DescribeInstances", Value::structure().with("InstanceId", id.as_str())).unwrap();
            at(&described, &["reservationSet", "0", "instancesSet", "0"]).clone()
        };
        assert_eq!(text(&state_at(&mut world, 5), &["instanceState", "name"]), "shutting-down");
        let terminated = state_at(&mut world, 10);
        assert_eq!(text(&terminated, &["instanceState", "name"]), "terminated");
        assert_eq!(
            (text(&terminated, &["stateReason", "code"]), text(&terminated, &["stateReason", "message"])),
            ("Client.InternalError", "Client.InternalError: Client error on launch")
        );
        let failure = crate::state::ec2::last_launch_failure(&world, ACCOUNT, REGION, &id).unwrap();
        assert_eq!((failure.action.as_str(), failure.key_arn.as_str()), ("kms:CreateGrant", key.as_str()));

        // The same template launched by a caller allowed the key runs.
        let launched = run_from(&mut world, &admin, by_name("encrypted"), &[]).unwrap();
        let id = text(&launched, &["instancesSet", "0", "instanceId"]).to_string();
        world.run_due(t0() + Duration::seconds(15));
        let instance = crate::state::ec2::instance(&world, ACCOUNT, REGION, &id).unwrap();
        assert_eq!(instance.state.name(), "running");
    }

    #[test]
    fn a_launch_from_a_template_is_authorized_on_the_template() {
        let mut world = world();
        let admin = admin();
        let allowed = create(&mut world, &admin, "allowed", web_data(None));
        let allowed_arn =
            format!("arn:aws:ec2:{REGION}:{ACCOUNT}:launch-template/{}", text(&allowed, &["launchTemplate", "launchTemplateId"]));
        create(&mut world, &admin, "other", web_data(None));
        let policy = format!(
            r#"{{"Version":"2012-10-17","Statement":[
                {{"Effect":"Allow","Action":"ec2:RunInstances","Resource":"*",
                  "Condition":{{"ArnEquals":{{"ec2:LaunchTemplate":"{allowed_arn}"}},"Bool":{{"ec2:IsLaunchTemplateResource":"true"}}}}}},
                {{"Effect":"Allow","Action":"ec2:CreateTags","Resource":"*","Condition":{{"StringEquals":{{"ec2:CreateAction":"RunInstances"}}}}}}]}}"#
        );
        let launcher = user(&mut world, "launcher", &policy);

        run_from(&mut world, &launcher, by_name("allowed"), &[]).unwrap();
        let other = run_from(&mut world, &launcher, by_name("other"), &[]).unwrap_err();
        assert_eq!((other.code.as_ref(), other.status), ("UnauthorizedOperation", 403));
        // Overriding the template's instance type makes the instance no template resource.
        let overridden = run_from(&mut world, &launcher, by_name("allowed"), &[("InstanceType", "t2.micro")]).unwrap_err();
        assert_eq!(overridden.code, "UnauthorizedOperation");
        // Without a template the condition key is absent.
        let bare = run(
            &mut world,
            &launcher,
            "RunInstances",
            Value::structure().with("ImageId", IMAGE).with("MinCount", "1").with("MaxCount", "1"),
        )
        .unwrap_err();
        assert_eq!(bare.code, "UnauthorizedOperation");
        // Managing templates is its own permission.
        let created = run(
            &mut world,
            &launcher,
            "CreateLaunchTemplate",
            Value::structure().with("LaunchTemplateName", "mine").with("LaunchTemplateData", web_data(None)),
        )
        .unwrap_err();
        assert_eq!(created.code, "UnauthorizedOperation");
        assert!(created.message.contains("ec2:CreateLaunchTemplate"), "{}", created.message);
    }
}

// ---------------------------------------------------------------------------------------------
// IAM instance profile associations, through the handlers.

mod profile_associations {
    use chrono::{DateTime, Duration, Utc};

    use super::super::handle;
    use super::{admin, caller, t0, ACCOUNT, EC2_ONLY, IMAGE};
    use crate::{
        error::AwsError,
        principal::Caller,
        profile::BehaviourProfile,
        services::Call,
        state::{iam::NewRole, World},
        value::Value,
    };

    const REGION: &str = "us-east-1";
    const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;



    /// A role `<name>Role` in an instance profile `<name>`, created at `at`.
    fn profile(world: &mut World, name: &str, at: DateTime<Utc>) {
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        let role = format!("{name}Role");
        let spec = NewRole { name: &role, path: None, trust_policy: TRUST, description: None, max_session_duration: None, tags: Vec::new(), permissions_boundary: None };
        iam.create_role(ids, ACCOUNT, at, spec).unwrap();
        iam.create_instance_profile(ids, ACCOUNT, at, name, None, Vec::new()).unwrap();
        iam.add_role_to_instance_profile(name, &role).unwrap();
    }

    fn run_at(world: &mut World, caller: &Caller, now: DateTime<Utc>, action: &str, params: Value) -> Result<Value, AwsError> {
        world.run_due(now);
        let call = Call { caller, region: REGION, now, action, params: &params };
        handle(world, &call).expect("an EC2 operation")
    }

    fn launch(world: &mut World, profile: Option<&str>, now: DateTime<Utc>) -> Result<String, AwsError> {
        let mut params = Value::structure().with("ImageId", IMAGE).with("MinCount", "1").with("MaxCount", "1");
        if let Some(name) = profile {
            params = params.with("IamInstanceProfile", Value::structure().with("Name", name));
        }
        let out = run_at(world, &admin(), now, "RunInstances", params)?;
        Ok(text(&out, &["instancesSet", "0", "instanceId"]).to_string())
    }

    fn text<'v>(value: &'v Value, path: &[&str]) -> &'v str {
        path.iter()
            .fold(value, |v, step| match step.parse::<usize>() {
                Ok(i) => &v.as_list()[i],
                Err(_) => v.get(step).unwrap_or_else(|| panic!("no {step} in {v:?}")),
            })
            .as_str()
            .unwrap_or_else(|| panic!("{path:?} is not text"))
    }

    fn associate(world: &mut World, caller: &Caller, instance: &str, name: &str, now: DateTime<Utc>) -> Result<Value, AwsError> {
        let params = Value::structure()
            .with("InstanceId", instance)
            .with("IamInstanceProfile", Value::structure().with("Name", name));
        run_at(world, caller, now, "AssociateIamInstanceProfile", params)
    }

    /// (association id, profile arn, state) of every association the filters keep.
    fn describe(world: &mut World, now: DateTime<Utc>, filters: &[(&str, &str)]) -> Vec<(String, String, String)> {
        let filters: Vec<Value> = filters
            .iter()
            .map(|(name, value)| Value::structure().with("Name", *name).with("Value", Value::List(vec![Value::from(*value)])))
            .collect();
        let out = run_at(world, &admin(), now, "DescribeIamInstanceProfileAssociations", Value::structure().with("Filter", Value::List(filters))).unwrap();
        out.get("iamInstanceProfileAssociationSet")
            .unwrap()
            .as_list()
            .iter()
            .map(|a| {
                (text(a, &["associationId"]).to_string(), text(a, &["iamInstanceProfile", "arn"]).to_string(), text(a, &["state"]).to_string())
            })
            .collect()
    }

    fn instance_profile_arn(world: &mut World, instance: &str, now: DateTime<Utc>) -> Option<String> {
        let out = run_at(world, &admin(), now, "DescribeInstances", Value::structure().with("InstanceId", instance)).unwrap();
        let instance = &out.get("reservationSet").unwrap().as_list()[0].get("instancesSet").unwrap().as_list()[0];
        instance.get("iamInstanceProfile").map(|p| text(p, &["arn"]).to_string())
    }

    fn error(result: Result<impl std::fmt::Debug, AwsError>) -> (String, String) {
        let error = result.unwrap_err();
        (error.code.to_string(), error.message)
    }

    fn arn(name: &str) -> String {
        format!("arn:aws:iam::{ACCOUNT}:instance-profile/{name}")
    }

    #[test]
    fn an_association_is_associating_then_associated_and_the_instance_presents_the_profile() {
        let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
        profile(&mut world, "App", t0());
        let instance = launch(&mut world, None, t0()).unwrap();

        let out = associate(&mut world, &admin(), &instance, "App", t0()).unwrap();
        let id = text(&out, &["iamInstanceProfileAssociation", "associationId"]).to_string();
        assert!(id.starts_with("iip-assoc-"), "{id}");
        assert_eq!(text(&out, &["iamInstanceProfileAssociation", "state"]), "associating");
        assert_eq!(text(&out, &["iamInstanceProfileAssociation", "instanceId"]), instance);
        assert_eq!(instance_profile_arn(&mut world, &instance, t0()), None);

        let later = t0() + Duration::seconds(10);
        assert_eq!(describe(&mut world, later, &[("instance-id", &instance)]), vec![(id, arn("App"), "associated".to_string())]);
        assert_eq!(instance_profile_arn(&mut world, &instance, later), Some(arn("App")));
        assert!(describe(&mut world, later, &[("state", "associating")]).is_empty());
    }

    #[test]
    fn a_second_association_is_refused_and_a_launch_with_a_profile_is_already_associated() {
        let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
        profile(&mut world, "App", t0());
        profile(&mut world, "Other", t0());
        let instance = launch(&mut world, Some("App"), t0()).unwrap();
        assert_eq!(describe(&mut world, t0(), &[("instance-id", &instance)])[0].2, "associated");

        assert_eq!(
            error(associate(&mut world, &admin(), &instance, "Other", t0())),
            ("IncorrectState".to_string(), format!("There is an existing association for instance {instance}"))
        );
        assert_eq!(
            error(associate(&mut world, &admin(), "i-0000000000000dead", "Other", t0())),
            ("InvalidInstanceID.NotFound".to_string(), "The instance ID 'i-0000000000000dead' does not exist".to_string())
        );
    }

    #[test]
    fn replace_gives_a_new_association_and_disassociate_ends_it() {
        let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
        profile(&mut world, "App", t0());
        profile(&mut world, "Other", t0());
        let instance = launch(&mut world, Some("App"), t0()).unwrap();
        let old = describe(&mut world, t0(), &[])[0].0.clone();

        let params = Value::structure()
            .with("AssociationId", old.as_str())
            .with("IamInstanceProfile", Value::structure().with("Name", "Other"));
        let out = run_at(&mut world, &admin(), t0(), "ReplaceIamInstanceProfileAssociation", params).unwrap();
        let new = text(&out, &["iamInstanceProfileAssociation", "associationId"]).to_string();
        assert_ne!(new, old);
        assert_eq!(text(&out, &["iamInstanceProfileAssociation", "state"]), "associating");
        let later = t0() + Duration::seconds(10);
        assert_eq!(instance_profile_arn(&mut world, &instance, later), Some(arn("Other")));
        assert_eq!(describe(&mut world, later, &[("state", "associated")]), vec![(new.clone(), arn("Other"), "associated".to_string())]);

        let out = run_at(&mut world, &admin(), later, "DisassociateIamInstanceProfile", Value::structure().with("AssociationId", new.as_str())).unwrap();
        assert_eq!(text(&out, &["iamInstanceProfileAssociation", "state"]), "disassociating");
        let after = later + Duration::seconds(10);
        assert_eq!(instance_profile_arn(&mut world, &instance, after), None);
        assert_eq!(describe(&mut world, after, &[("state", "disassociated")]).len(), 2);
        assert_eq!(
            error(run_at(&mut world, &admin(), after, "DisassociateIamInstanceProfile", Value::structure().with("AssociationId", new.as_str()))),
            ("InvalidAssociationID.NotFound".to_string(), format!("An invalid association-id of '{new}' was given"))
        );
        // With the old association gone, the instance takes a new one.
        assert!(associate(&mut world, &admin(), &instance, "App", after).is_ok());
    }

    #[test]
    fn associating_a_profile_needs_pass_role_on_its_role() {
        let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
        profile(&mut world, "App", t0());
        let instance = launch(&mut world, None, t0()).unwrap();
        let (iam, ids) = world.iam_and_ids(ACCOUNT).unwrap();
        let id = iam.create_user(ids, ACCOUNT, t0(), "operator", None, Vec::new()).unwrap().id.clone();
        iam.put_user_policy("operator", "inline", EC2_ONLY).unwrap();
        let operator = caller("operator", id);

        let (code, message) = error(associate(&mut world, &operator, &instance, "App", t0()));
        assert_eq!(code, "UnauthorizedOperation");
        assert!(
            message.contains(&format!("is not authorized to perform: iam:PassRole on resource: arn:aws:iam::{ACCOUNT}:role/AppRole")),
            "{message}"
        );
        assert!(describe(&mut world, t0(), &[]).is_empty());
    }

    #[test]
    fn a_new_profile_is_unknown_to_ec2_until_the_propagation_window_passes() {
        let mut world = World::new(BehaviourProfile::Current, t0())
            .with_port(crate::dispatch::pipeline())
            .with_instance_profile_propagation(Duration::seconds(10));
        let instance = launch(&mut world, None, t0()).unwrap();
        profile(&mut world, "Fresh", t0());
        let invalid = (
            "InvalidParameterValue".to_string(),
            "Value (Fresh) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name".to_string(),
        );
        let soon = t0() + Duration::seconds(9);
        assert_eq!(error(launch(&mut world, Some("Fresh"), soon)), invalid);
        assert_eq!(error(associate(&mut world, &admin(), &instance, "Fresh", soon)), invalid);

        let later = t0() + Duration::seconds(10);
        assert!(launch(&mut world, Some("Fresh"), later).is_ok());
        assert!(associate(&mut world, &admin(), &instance, "Fresh", later).is_ok());
    }

    #[test]
    fn by_default_a_new_profile_is_usable_at_once() {
        let mut world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline());
        profile(&mut world, "Fresh", t0());
        assert!(launch(&mut world, Some("Fresh"), t0()).is_ok());
    }
}
