use std::{
    collections::{BTreeMap, HashMap},
    sync::Arc,
};

use chrono::{DateTime, Utc};
use wana_policy::{NamedPolicy, Policy, PolicyKind};

use super::iam::{IamState, PolicyDocument, User};
use crate::{
    accounts::DEFAULT_ACCOUNTS,
    error::AwsError,
    port::{InnerCall, Services},
    value::Value,
    ids::IdGenerator,
    principal::{CredentialKind, Principal},
    profile::BehaviourProfile,
};

/// Everything the emulator knows. One per emulator run, behind one lock: requests are short,
/// and a single lock keeps every multi-resource change atomic.
#[derive(Debug)]
pub struct World {
    pub profile: BehaviourProfile,
    pub ids: IdGenerator,
    /// Accounts by 12-digit id.
    pub accounts: BTreeMap<String, Account>,
    /// Every access key, long-term and temporary, by access key id.
    pub access_keys: HashMap<String, AccessKey>,
    /// Recent authorization decisions, for narratives and traces.
    pub authz_log: crate::authz::AuthzLog,
    /// Effects AWS performs later (see [`super::scheduler`]).
    pub scheduler: super::scheduler::Scheduler<super::effects::Effect>,
    /// How a service calls another as a principal (see [`crate::port`]): handed in by the
    /// request pipeline, so that the state never names the services above it.
    port: Port,
    /// AWS's service latencies (an instance's transitions, an alarm's evaluation delay, Auto
    /// Scaling's retry backoff) are divided by this; 1 keeps AWS's timings. Contractual times
    /// (session expiry, a key's deletion date) are never scaled. See [`World::latency`].
    latency_scale: u32,
    /// How long after its creation EC2 does not know an IAM instance profile yet (see
    /// [`World::with_instance_profile_propagation`]).
    instance_profile_propagation: chrono::Duration,
    /// What each instance's metadata service remembers (tokens, credentials), by instance id.
    pub metadata: HashMap<String, super::metadata::InstanceMetadata>,
    /// Run Command scripts waiting for the instance runtime (see [`super::ssm::jobs`]).
    pub(crate) ssm_jobs: super::ssm::jobs::JobQueue,
    /// S3's buckets, whose names are global across accounts and regions.
    pub s3: super::s3::State,
    /// The AWS Organization over the built-in accounts, once one is created.
    pub organization: Option<super::organizations::Organization>,
    /// AWS's propagation windows a fault profile opens (see [`super::propagation`]).
    pub(super) propagation: super::propagation::Propagation,
    /// The grant tokens of the KMS request being handled (`GrantTokens`), which make a grant
    /// usable before it has propagated (see [`super::kms::with_grant_tokens`]).
    pub(crate) presented_grant_tokens: Vec<String>,
}

/// The pipeline inner calls go through.
#[derive(Clone)]
pub struct Port(Arc<dyn Services<World> + Send + Sync>);

impl Port {
    pub fn new(services: impl Services<World> + Send + Sync + 'static) -> Port {
        Port(Arc::new(services))
    }
}

impl std::fmt::Debug for Port {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Port")
    }
}

/// The port of a world nobody connected: every inner call fails, visibly.
struct Unconnected;

impl Services<World> for Unconnected {
    fn call(&self, _world: &mut World, call: InnerCall<'_>) -> Result<Value, AwsError> {
        Err(AwsError::internal(format!(
            "no request pipeline is connected to this world, so {} cannot be called",
            call.action
        )))
    }
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    /// IAM is global.
    pub iam: IamState,
    /// Regional services, by region name; a region's state exists once something touched it.
    pub regions: BTreeMap<String, Regional>,
}

/// The regional services of one account in one region.
#[derive(Debug, Default, Clone)]
pub struct Regional {
    pub ec2: super::ec2::State,
    pub cloudwatch: super::cloudwatch::State,
    pub cloudformation: super::cloudformation::State,
    pub kms: super::kms::State,
    pub autoscaling: super::autoscaling::State,
    pub ssm: super::ssm::State,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    Active,
    Inactive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }
}

/// A role session issued by STS: the credentials expire, and the permissions are the role's
/// at the time of each request.
#[derive(Debug, Clone)]
pub struct Session {
    pub account: String,
    pub role_name: String,
    pub session_name: String,
    pub session_token: String,
    pub issued: DateTime<Utc>,
    pub expires: DateTime<Utc>,
    /// `ec2:SourceInstanceARN`: the instance EC2 delivered these credentials to through its
    /// metadata service (`arn:aws:ec2:<region>:<account>:instance/<id>`). AWS attaches it to
    /// every request signed with instance credentials and to no other; `None` for sessions from
    /// `sts:AssumeRole` and for services' own sessions.
    pub source_instance_arn: Option<String>,
    /// The session policies passed to AssumeRole (`Policy`, `PolicyArns`): the session may do
    /// only what one of them allows as well as its role.
    pub policies: SessionPolicies,
}

/// The session policies of a role session, as AssumeRole received them.
#[derive(Debug, Clone, Default)]
pub struct SessionPolicies {
    /// `Policy`: the inline session policy, parsed (boxed: most sessions have none).
    pub inline: Option<Box<NamedPolicy>>,
    /// `PolicyArns`: managed policies, read when each request is decided (their current
    /// default version), as IAM reads a role's attached policies.
    pub arns: Vec<String>,
}

impl SessionPolicies {
    pub fn is_empty(&self) -> bool {
        self.inline.is_none() && self.arns.is_empty()
    }
}

#[derive(Debug, Clone)]
pub enum KeyOwner {
    User { account: String, user_name: String },
    Session(Session),
}

#[derive(Debug, Clone)]
pub struct AccessKey {
    pub id: String,
    pub secret: String,
    pub created: DateTime<Utc>,
    pub status: KeyStatus,
    pub owner: KeyOwner,
}

impl AccessKey {
    pub fn kind(&self) -> CredentialKind {
        match self.owner {
            KeyOwner::User { .. } => CredentialKind::LongTerm,
            KeyOwner::Session(_) => CredentialKind::Temporary,
        }
    }
}

impl World {
    /// A world with the three built-in accounts, each with an `admin` user that has
    /// `AdministratorAccess` and the documented fixed access key.
    pub fn new(profile: BehaviourProfile, now: DateTime<Utc>) -> World {
        // IAM stores creation dates in whole seconds.
        let now = chrono::SubsecRound::trunc_subsecs(now, 0);
        let mut world = World {
            profile,
            ids: IdGenerator::default(),
            accounts: BTreeMap::new(),
            access_keys: HashMap::new(),
            authz_log: Default::default(),
            scheduler: Default::default(),
            port: Port::new(Unconnected),
            latency_scale: 1,
            instance_profile_propagation: chrono::Duration::zero(),
            metadata: HashMap::new(),
            ssm_jobs: Default::default(),
            s3: Default::default(),
            organization: None,
            propagation: Default::default(),
            presented_grant_tokens: Vec::new(),
        };
        for info in DEFAULT_ACCOUNTS {
            let mut account =
                Account { id: info.id.to_string(), iam: IamState::default(), regions: BTreeMap::new() };
            let user_id = world.ids.unique_id("AIDA");
            account.iam.users.insert(
                info.admin_user.to_string(),
                User {
                    name: info.admin_user.to_string(),
                    path: "/".to_string(),
                    id: user_id,
                    arn: format!("arn:aws:iam::{}:user/{}", info.id, info.admin_user),
                    created: now,
                    inline_policies: BTreeMap::new(),
                    attached_policies: vec!["arn:aws:iam::aws:policy/AdministratorAccess".to_string()],
                    permissions_boundary: None,
                },
            );
            world.accounts.insert(info.id.to_string(), account);
            world.access_keys.insert(
                info.access_key_id.to_string(),
                AccessKey {
                    id: info.access_key_id.to_string(),
                    secret: info.secret_access_key.to_string(),
                    created: now,
                    status: KeyStatus::Active,
                    owner: KeyOwner::User {
                        account: info.id.to_string(),
                        user_name: info.admin_user.to_string(),
                    },
                },
            );
        }
        world
    }

    /// Connects the pipeline that carries inner calls (the server does, at start).
    pub fn with_port(mut self, port: Port) -> World {
        self.port = port;
        self
    }

    /// Shortens AWS's service latencies by `scale` (0 and 1 keep AWS's timings), for people
    /// typing commands against a served emulator who should not wait AWS's minutes.
    pub fn with_latency_scale(mut self, scale: u32) -> World {
        self.latency_scale = scale.max(1);
        self
    }

    /// Makes EC2 refuse an instance profile for `window` after IAM created it (RunInstances and
    /// AssociateIamInstanceProfile answer `InvalidParameterValue` "... Invalid IAM Instance
    /// Profile name"), as AWS does while IAM's change propagates (aws-traps.md, Trap 5). A bare
    /// world (unit tests) has none; a served emulator sets AWS's window from its
    /// `EmulatorConfig` (`crate::AWS_INSTANCE_PROFILE_PROPAGATION`, where the figure is
    /// discussed). The window is scaled by the latency scale like any AWS latency.
    pub fn with_instance_profile_propagation(mut self, window: chrono::Duration) -> World {
        self.instance_profile_propagation = window.max(chrono::Duration::zero());
        self
    }

    /// The window of [`World::with_instance_profile_propagation`], at this world's latency scale.
    pub fn instance_profile_propagation(&self) -> chrono::Duration {
        self.latency(self.instance_profile_propagation)
    }

    /// How long a service takes for something AWS takes `delay` for, at this world's latency
    /// scale. Models schedule their effects `now + world.latency(delay)`.
    pub fn latency(&self, delay: chrono::Duration) -> chrono::Duration {
        delay / i32::try_from(self.latency_scale).unwrap_or(i32::MAX)
    }

    /// A call one service makes to another as a principal: authenticated, authorized and
    /// handled like a request from outside (see [`crate::port`]).
    pub fn inner_call(&mut self, call: InnerCall<'_>) -> Result<Value, AwsError> {
        let port = self.port.clone();
        port.0.call(self, call)
    }

    /// What software on an instance reads at `path` of its metadata service at `now` (see
    /// [`Services::instance_metadata`]): the body of a 200 answer, else `None`.
    pub fn instance_metadata(&mut self, now: DateTime<Utc>, instance_id: &str, path: &str) -> Option<String> {
        let port = self.port.clone();
        port.0.instance_metadata(self, now, instance_id, path)
    }

    /// `ec2:SourceInstanceARN` of a caller: the instance its credentials were delivered to, when
    /// they are an instance's role credentials (see [`Session::source_instance_arn`]).
    pub fn source_instance_arn(&self, caller: &crate::principal::Caller) -> Option<&str> {
        match &self.access_keys.get(&caller.access_key_id)?.owner {
            KeyOwner::Session(session) => session.source_instance_arn.as_deref(),
            KeyOwner::User { .. } => None,
        }
    }

    pub fn account(&self, id: &str) -> Option<&Account> {
        self.accounts.get(id)
    }

    pub fn account_mut(&mut self, id: &str) -> Option<&mut Account> {
        self.accounts.get_mut(id)
    }

    /// An account's state in a region, if the account exists (created on first use).
    pub fn regional_mut(&mut self, account: &str, region: &str) -> Option<&mut Regional> {
        let account = self.accounts.get_mut(account)?;
        Some(account.regions.entry(region.to_string()).or_default())
    }

    pub fn regional(&self, account: &str, region: &str) -> Option<&Regional> {
        self.accounts.get(account)?.regions.get(region)
    }

    /// The principal an access key stands for now, or `None` when the entity behind it is gone
    /// (a deleted user's keys and a deleted role's sessions stop working).
    pub fn principal_of(&self, key: &AccessKey) -> Option<Principal> {
        match &key.owner {
            KeyOwner::User { account, user_name } => {
                let user = self.account(account)?.iam.users.get(user_name)?;
                Some(Principal::User {
                    account: account.clone(),
                    name: user.name.clone(),
                    path: user.path.clone(),
                    user_id: user.id.clone(),
                })
            }
            KeyOwner::Session(session) => {
                let role = self.account(&session.account)?.iam.roles.get(&session.role_name)?;
                Some(Principal::AssumedRole {
                    account: session.account.clone(),
                    role_name: role.name.clone(),
                    role_path: role.path.clone(),
                    role_id: role.id.clone(),
                    session_name: session.session_name.clone(),
                })
            }
        }
    }

    /// Every identity-based policy of a principal: a user's own, or the role's for a session.
    pub fn identity_policies(&self, principal: &Principal) -> Vec<NamedPolicy> {
        let Some(account) = self.account(principal.account()) else {
            return Vec::new();
        };
        let iam = &account.iam;
        match principal {
            Principal::User { name, .. } => iam.users.get(name).map(|u| {
                iam.identity_policies(&u.inline_policies, &u.attached_policies).cloned().collect()
            }),
            Principal::AssumedRole { role_name, .. } => iam.roles.get(role_name).map(|r| {
                iam.identity_policies(&r.inline_policies, &r.attached_policies).cloned().collect()
            }),
        }
        .unwrap_or_default()
    }
}

/// Parses a policy document a client sent, naming it for authorization traces.
pub fn parse_document(
    text: &str,
    kind: PolicyKind,
    name: String,
) -> Result<PolicyDocument, wana_policy::PolicyError> {
    let policy = Policy::parse(text, kind)?;
    Ok(PolicyDocument { text: text.to_string(), parsed: NamedPolicy { name, policy } })
}
