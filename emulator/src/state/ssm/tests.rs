//! Tests of the SSM model, through the request pipeline: instances launched with an instance
//! profile, their agents reading credentials from instance metadata and registering (or not)
//! on the emulator clock. [`Fixture`] is shared with the handler tests (`services/ssm/tests.rs`).

use chrono::{DateTime, Duration, TimeZone, Utc};
use rstest::rstest;

use super::agent::{self, BOOT_DELAY_SECONDS, NO_ROLE};
use crate::{
    error::AwsError,
    port::{Acting, InnerCall},
    principal::{Caller, CredentialKind, Principal},
    profile::BehaviourProfile,
    protocol::ServiceId,
    services::{handle, Call},
    state::{iam::NewRole, World},
    value::Value,
};

pub(crate) const ACCOUNT: &str = "111111111111";
pub(crate) const REGION: &str = "us-east-1";
pub(crate) const CORE: &str = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore";
pub(crate) const EC2_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
pub(crate) const SSM_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ssm.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
pub(crate) const BOTH_TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":["ec2.amazonaws.com","ssm.amazonaws.com"]},"Action":"sts:AssumeRole"}]}"#;
const UPDATE_ONLY: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:UpdateInstanceInformation","Resource":"*"}]}"#;

/// Instances launch at 0 s and run at 5 s; their agents first try at 25 s.
pub(crate) const FIRST_TRY: i64 = 5 + BOOT_DELAY_SECONDS;

pub(crate) fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 5, 10, 0, 0).single().expect("valid time")
}

pub(crate) fn at(seconds: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(seconds)
}

/// A world connected to the pipeline, and what the tests do in it as the account's admin.
pub(crate) struct Fixture {
    pub world: World,
    admin: Caller,
}

impl Fixture {
    pub fn new() -> Fixture {
        Fixture::with(World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline()))
    }

    pub fn with(world: World) -> Fixture {
        let user = world.iam(ACCOUNT).unwrap().user("admin").unwrap();
        let admin = Caller {
            principal: Principal::User {
                account: ACCOUNT.to_string(),
                name: user.name.clone(),
                path: user.path.clone(),
                user_id: user.id.clone(),
            },
            access_key_id: "AKIAWANAADMINA000001".to_string(),
            credential_kind: CredentialKind::LongTerm,
            source_ip: std::net::IpAddr::from([127, 0, 0, 1]),
            token_issued: None,
            via_service: None,
        };
        Fixture { world, admin }
    }

    pub fn admin(&self) -> Caller {
        self.admin.clone()
    }

    /// A role `name` trusted as `trust` says, in an instance profile of the same name.
    pub fn role_in_profile(&mut self, name: &str, trust: &str) {
        let (iam, ids) = self.world.iam_and_ids(ACCOUNT).unwrap();
        let spec = NewRole { name, path: None, trust_policy: trust, description: None, max_session_duration: None, tags: Vec::new(), permissions_boundary: None };
        iam.create_role(ids, ACCOUNT, t0(), spec).unwrap();
        iam.create_instance_profile(ids, ACCOUNT, t0(), name, None, Vec::new()).unwrap();
        iam.add_role_to_instance_profile(name, name).unwrap();
    }

    pub fn attach(&mut self, role: &str, policy_arn: &str) {
        self.world.iam_mut(ACCOUNT).unwrap().attach_role_policy(role, policy_arn).unwrap();
    }

    pub fn detach(&mut self, role: &str, policy_arn: &str) {
        self.world.iam_mut(ACCOUNT).unwrap().detach_role_policy(role, policy_arn).unwrap();
    }

    pub fn call(&mut self, caller: &Caller, service: ServiceId, now: DateTime<Utc>, action: &str, params: Value) -> Result<Value, AwsError> {
        self.world.run_due(now);
        let call = Call { caller, region: REGION, now, action, params: &params };
        handle(service, &mut self.world, &call).expect("an operation of the service")
    }

    pub fn ec2(&mut self, now: DateTime<Utc>, action: &str, params: Value) -> Result<Value, AwsError> {
        let admin = self.admin();
        self.call(&admin, ServiceId::Ec2, now, action, params)
    }

    pub fn ssm(&mut self, now: DateTime<Utc>, action: &str, params: Value) -> Result<Value, AwsError> {
        let admin = self.admin();
        self.call(&admin, ServiceId::Ssm, now, action, params)
    }

    /// Launches `count` instances at 0 s, with the instance profile if given; returns their ids.
    pub fn launch_many(&mut self, profile: Option<&str>, count: i64, extra: Value) -> Vec<String> {
        let mut params = Value::structure()
            .with("ImageId", "ami-374db956")
            .with("MinCount", count.to_string())
            .with("MaxCount", count.to_string());
        if let Some(name) = profile {
            params.push("IamInstanceProfile", Value::structure().with("Name", name));
        }
        for (name, value) in extra.entries() {
            params.push(name, value.clone());
        }
        let out = self.ec2(t0(), "RunInstances", params).unwrap();
        out.get("instancesSet")
            .unwrap()
            .as_list()
            .iter()
            .map(|i| i.get("instanceId").and_then(Value::as_str).unwrap().to_string())
            .collect()
    }

    pub fn launch(&mut self, profile: Option<&str>) -> String {
        self.launch_many(profile, 1, Value::structure()).remove(0)
    }

    /// (instance id, PingStatus) of every node `DescribeInstanceInformation` lists at `now`.
    pub fn listed(&mut self, now: DateTime<Utc>) -> Vec<(String, String)> {
        let out = self.ssm(now, "DescribeInstanceInformation", Value::structure()).unwrap();
        nodes(&out)
    }

    pub fn last_error(&self, instance_id: &str) -> Option<String> {
        agent::agent(&self.world, ACCOUNT, REGION, instance_id).and_then(|a| a.last_error.clone())
    }
}

/// (InstanceId, PingStatus) of each item of an `InstanceInformationList`.
pub(crate) fn nodes(out: &Value) -> Vec<(String, String)> {
    out.get("InstanceInformationList")
        .unwrap()
        .as_list()
        .iter()
        .map(|n| {
            let text = |name: &str| n.get(name).and_then(Value::as_str).unwrap().to_string();
            (text("InstanceId"), text("PingStatus"))
        })
        .collect()
}

pub(crate) fn online(id: &str) -> Vec<(String, String)> {
    vec![(id.to_string(), "Online".to_string())]
}

// ---------------------------------------------------------------------------------------------
// Registration: what the role may do decides, not who may assume it (beyond EC2).

/// How the instance's role is set up, and whether the instance becomes a managed node.
#[rstest]
#[case::core_policy(Some(EC2_TRUST), Some(CORE), None, true)]
#[case::ssm_added_to_a_working_trust_policy(Some(BOTH_TRUST), Some(CORE), None, true)]
#[case::inline_policy_with_only_the_agents_call(Some(EC2_TRUST), None, Some(UPDATE_ONLY), true)]
#[case::no_permission(Some(EC2_TRUST), None, None, false)]
#[case::trusted_by_ssm_only(Some(SSM_TRUST), Some(CORE), None, false)]
#[case::no_instance_profile(None, None, None, false)]
fn an_instance_registers_when_its_role_may_call_update_instance_information(
    #[case] trust: Option<&str>,
    #[case] managed: Option<&str>,
    #[case] inline: Option<&str>,
    #[case] registers: bool,
) {
    let mut fx = Fixture::new();
    if let Some(trust) = trust {
        fx.role_in_profile("App", trust);
    }
    if let Some(arn) = managed {
        fx.attach("App", arn);
    }
    if let Some(document) = inline {
        fx.world.iam_mut(ACCOUNT).unwrap().put_role_policy("App", "agent", document).unwrap();
    }
    let id = fx.launch(trust.map(|_| "App"));
    assert!(fx.listed(at(FIRST_TRY - 1)).is_empty(), "not before the agent's first try");
    let expected = if registers { online(&id) } else { Vec::new() };
    assert_eq!(fx.listed(at(FIRST_TRY)), expected);
    assert_eq!(fx.listed(at(3 * 3600)), expected, "hours later");
}

#[test]
fn a_role_ec2_may_not_assume_serves_no_credentials_so_the_agent_finds_no_role() {
    let mut fx = Fixture::new();
    fx.role_in_profile("App", SSM_TRUST);
    fx.attach("App", CORE);
    let id = fx.launch(Some("App"));
    fx.world.run_due(at(FIRST_TRY));
    assert_eq!(fx.last_error(&id).as_deref(), Some(NO_ROLE));
    // EC2 asked STS for the role and its trust policy said no; SSM was never called.
    let records: Vec<_> = fx.world.authz_log.records().cloned().collect();
    assert!(records.iter().any(|r| r.action == "sts:AssumeRole" && r.caller_arn == "ec2.amazonaws.com" && !r.allowed));
    assert!(!records.iter().any(|r| r.action == "ssm:UpdateInstanceInformation"));
}

#[test]
fn refusals_are_logged_with_the_instance_role_session_and_the_agent_keeps_ssms_error() {
    let mut fx = Fixture::new();
    fx.role_in_profile("App", EC2_TRUST);
    let id = fx.launch(Some("App"));
    fx.world.run_due(at(FIRST_TRY));
    let session = format!("arn:aws:sts::{ACCOUNT}:assumed-role/App/{id}");
    let instance = format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{id}");
    let refusal = fx
        .world
        .authz_log
        .records()
        .find(|r| r.action == "ssm:UpdateInstanceInformation")
        .cloned()
        .expect("the agent's call was decided");
    assert_eq!((refusal.caller_arn.as_str(), refusal.resource.as_str(), refusal.allowed), (session.as_str(), instance.as_str(), false));
    assert_eq!(
        fx.last_error(&id),
        Some(format!(
            "AccessDeniedException: User: {session} is not authorized to perform: ssm:UpdateInstanceInformation on \
             resource: {instance} because no identity-based policy allows the ssm:UpdateInstanceInformation action"
        ))
    );
}

/// The agent's tries without permission: 30 s after the first failure, doubling, capped at 30
/// minutes.
#[rstest]
#[case(1, 30)]
#[case(2, 60)]
#[case(3, 120)]
#[case(6, 960)]
#[case(7, 1800)]
#[case(9, 1800)]
fn a_refused_agent_backs_off_doubling_from_thirty_seconds_to_thirty_minutes(#[case] failures: u32, #[case] wait: i64) {
    let mut fx = Fixture::new();
    fx.role_in_profile("App", EC2_TRUST);
    let id = fx.launch(Some("App"));
    let mut now = at(FIRST_TRY);
    let mut waited = Duration::zero();
    for _ in 0..failures {
        fx.world.run_due(now);
        let next = agent::agent(&fx.world, ACCOUNT, REGION, &id).and_then(|a| a.next_try).expect("the agent runs");
        waited = next - now;
        now = next;
    }
    assert_eq!(waited, Duration::seconds(wait));
}

#[test]
fn a_policy_attached_later_registers_the_node_at_the_agents_next_try_and_not_before() {
    let mut fx = Fixture::new();
    fx.role_in_profile("App", EC2_TRUST);
    let id = fx.launch(Some("App"));
    // Tries at 25 s and 55 s fail; the next is at 115 s.
    assert!(fx.listed(at(60)).is_empty());
    fx.attach("App", CORE);
    assert!(fx.listed(at(114)).is_empty());
    assert_eq!(fx.listed(at(115)), online(&id));
    assert_eq!(fx.last_error(&id), None);
}

#[test]
fn the_agent_tells_ssm_what_the_instance_is() {
    let mut fx = Fixture::new();
    fx.role_in_profile("App", EC2_TRUST);
    fx.attach("App", CORE);
    let id = fx.launch(Some("App"));
    let out = fx.ssm(at(FIRST_TRY), "DescribeInstanceInformation", Value::structure()).unwrap();
    let node = &out.get("InstanceInformationList").unwrap().as_list()[0];
    let text = |name: &str| node.get(name).and_then(Value::as_str).unwrap_or_else(|| panic!("no {name}")).to_string();
    let ip = crate::state::ec2::instance(&fx.world, ACCOUNT, REGION, &id).unwrap().private_ip_address.clone();
    assert_eq!(text("IPAddress"), ip);
    assert_eq!(text("ComputerName"), format!("ip-{}.ec2.internal", ip.replace('.', "-")));
    assert_eq!(
        [text("AgentVersion"), text("PlatformType"), text("PlatformName"), text("PlatformVersion")],
        ["3.3.1142.0", "Linux", "Amazon Linux", "2023"]
    );
    assert_eq!([text("ResourceType"), text("SourceId"), text("SourceType")], ["EC2Instance".to_string(), id.clone(), "AWS::EC2::Instance".to_string()]);
    assert_eq!(node.get("IsLatestVersion"), Some(&Value::Bool(true)));
    assert_eq!(node.get("LastPingDateTime"), Some(&Value::Timestamp(at(FIRST_TRY))));
    // Health pings keep it fresh: five minutes later the agent pinged again.
    let out = fx.ssm(at(FIRST_TRY + 300), "DescribeInstanceInformation", Value::structure()).unwrap();
    let node = &out.get("InstanceInformationList").unwrap().as_list()[0];
    assert_eq!(node.get("LastPingDateTime"), Some(&Value::Timestamp(at(FIRST_TRY + 300))));
}

#[test]
fn a_node_whose_role_loses_the_policy_is_connection_lost_after_ten_minutes_without_a_ping() {
    let mut fx = Fixture::new();
    fx.role_in_profile("App", EC2_TRUST);
    fx.attach("App", CORE);
    let id = fx.launch(Some("App"));
    assert_eq!(fx.listed(at(FIRST_TRY)), online(&id));
    fx.detach("App", CORE);
    // The health ping at 325 s is refused: the last successful ping stays at 25 s.
    assert_eq!(fx.listed(at(FIRST_TRY + 599)), online(&id));
    assert_eq!(fx.listed(at(FIRST_TRY + 600)), vec![(id.clone(), "ConnectionLost".to_string())]);
    assert!(fx.last_error(&id).is_some_and(|e| e.starts_with("AccessDeniedException")));
    // Attaching it again brings the node back at the agent's next try.
    fx.attach("App", CORE);
    assert_eq!(fx.listed(at(3600)), online(&id));
}

#[test]
fn a_stopped_instance_drops_out_and_registers_again_after_a_start() {
    let mut fx = Fixture::new();
    fx.role_in_profile("App", EC2_TRUST);
    fx.attach("App", CORE);
    let id = fx.launch(Some("App"));
    assert_eq!(fx.listed(at(FIRST_TRY)), online(&id));
    fx.ec2(at(100), "StopInstances", Value::structure().with("InstanceId", id.as_str())).unwrap();
    assert!(fx.listed(at(105)).is_empty(), "stopped");
    assert!(fx.listed(at(400)).is_empty(), "the agent stopped with the instance");
    assert!(!agent::agent(&fx.world, ACCOUNT, REGION, &id).unwrap().running);

    // Started again (running at 1005 s): until the new agent pings after its boot delay, the
    // node's last ping is too old, and it shows ConnectionLost.
    fx.ec2(at(1000), "StartInstances", Value::structure().with("InstanceId", id.as_str())).unwrap();
    assert_eq!(fx.listed(at(1005)), vec![(id.clone(), "ConnectionLost".to_string())]);
    assert_eq!(fx.listed(at(1005 + BOOT_DELAY_SECONDS)), online(&id));
    // Terminated, it is gone for good.
    fx.ec2(at(1100), "TerminateInstances", Value::structure().with("InstanceId", id.as_str())).unwrap();
    assert!(fx.listed(at(1200)).is_empty());
}

#[test]
fn a_served_emulators_latency_scale_shortens_the_agents_delays() {
    let world = World::new(BehaviourProfile::Current, t0()).with_port(crate::dispatch::pipeline()).with_latency_scale(10);
    let mut fx = Fixture::with(world);
    fx.role_in_profile("App", EC2_TRUST);
    fx.attach("App", CORE);
    let id = fx.launch(Some("App"));
    // Running at 0.5 s, first try 2 s later.
    let first = t0() + Duration::milliseconds(2500);
    assert!(fx.listed(first - Duration::milliseconds(1)).is_empty());
    assert_eq!(fx.listed(first), online(&id));
}

// ---------------------------------------------------------------------------------------------
// Only the instance registers itself.

fn update_instance_information(id: &str) -> Value {
    Value::structure().with("InstanceId", id).with("AgentName", "amazon-ssm-agent").with("AgentVersion", "3.3.1142.0")
}

#[test]
fn an_administrator_cannot_register_an_instance_by_calling_update_instance_information() {
    let mut fx = Fixture::new();
    let id = fx.launch(None);
    let error = fx.ssm(at(10), "UpdateInstanceInformation", update_instance_information(&id)).unwrap_err();
    let instance = format!("arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{id}");
    assert_eq!(
        (error.code.as_ref(), error.status, error.message.as_str()),
        (
            "AccessDeniedException",
            400,
            format!("User: arn:aws:iam::{ACCOUNT}:user/admin is not authorized to perform: ssm:UpdateInstanceInformation on resource: {instance}").as_str()
        )
    );
    assert!(fx.listed(at(10)).is_empty());
    // IAM allowed the administrator; SSM's rule refused, and the log says so.
    let decisions: Vec<(String, bool)> = fx
        .world
        .authz_log
        .records()
        .filter(|r| r.action == "ssm:UpdateInstanceInformation")
        .map(|r| (r.caller_arn.clone(), r.allowed))
        .collect();
    let admin = format!("arn:aws:iam::{ACCOUNT}:user/admin");
    assert_eq!(decisions, [(admin.clone(), true), (admin, false)]);
}

#[test]
fn a_role_session_merely_named_after_the_instance_cannot_register_it() {
    let mut fx = Fixture::new();
    // A role the administrator may assume, with the agent's permission.
    let trust = format!(r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::{ACCOUNT}:root"}},"Action":"sts:AssumeRole"}}]}}"#);
    fx.role_in_profile("Forger", &trust);
    fx.attach("Forger", CORE);
    let id = fx.launch(None);
    let admin = fx.admin();
    let params = Value::structure()
        .with("RoleArn", format!("arn:aws:iam::{ACCOUNT}:role/Forger"))
        .with("RoleSessionName", id.as_str());
    let out = fx.call(&admin, ServiceId::Sts, at(10), "AssumeRole", params).unwrap();
    let credentials = out.get("Credentials").unwrap();
    let text = |name: &str| credentials.get(name).and_then(Value::as_str).unwrap().to_string();
    let call = InnerCall {
        acting: Acting::StoredCredential { access_key_id: text("AccessKeyId"), session_token: Some(text("SessionToken")) },
        service: ServiceId::Ssm,
        region: REGION,
        now: at(10),
        action: "UpdateInstanceInformation",
        params: update_instance_information(&id),
    };
    let error = fx.world.inner_call(call).unwrap_err();
    assert_eq!(error.code, "AccessDeniedException");
    assert!(error.message.starts_with(&format!("User: arn:aws:sts::{ACCOUNT}:assumed-role/Forger/{id} is not authorized")), "{}", error.message);
    assert!(fx.listed(at(10)).is_empty());
}

#[test]
fn instance_credentials_carry_their_instance_as_ec2_source_instance_arn() {
    // A policy that allows the agent's call only with instance credentials.
    let only_from_instances = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ssm:UpdateInstanceInformation","Resource":"*","Condition":{"StringLike":{"ec2:SourceInstanceARN":"arn:aws:ec2:*:*:instance/i-*"}}}]}"#;
    let mut fx = Fixture::new();
    fx.role_in_profile("App", EC2_TRUST);
    fx.world.iam_mut(ACCOUNT).unwrap().put_role_policy("App", "agent", only_from_instances).unwrap();
    let id = fx.launch(Some("App"));
    assert_eq!(fx.listed(at(FIRST_TRY)), online(&id));
}
