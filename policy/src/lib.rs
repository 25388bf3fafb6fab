//! The AWS IAM policy language for the wana emulator: parsing, validation and evaluation, with
//! an explanation of every decision. Pure: no I/O, no clocks, no global state.
//!
//! # Parsing
//!
//! [`Policy::parse`] validates a JSON document the way IAM does and, on failure, returns a
//! [`PolicyError`] whose `Display` is AWS's own `MalformedPolicyDocument` text (the module
//! documentation of `parse.rs` lists every text and which ones are confirmed). Parsing does the
//! per-document work once (lower-casing actions, classifying wildcard patterns, typing condition
//! values) so that [`evaluate`] stays allocation-light. Which parser for which document:
//!
//! | document | parser |
//! |---|---|
//! | inline user/group/role policy, permissions boundary (a managed policy), session policy, SCP | [`Policy::parse`] with [`PolicyKind::Identity`] |
//! | managed policy (CreatePolicy, CreatePolicyVersion) | [`Policy::parse_managed`] (version first) |
//! | bucket policy, key policy, RCP, VPC endpoint policy | [`Policy::parse`] with [`PolicyKind::Resource`] |
//! | role trust policy (CreateRole, UpdateAssumeRolePolicy) | [`Policy::parse_trust_policy`] |
//!
//! # Evaluation: the API the emulator calls
//!
//! [`evaluate`]`(&`[`RequestContext`]`, &`[`EvaluationInput`]`) -> `[`Decision`]. The context
//! is who asks ([`PrincipalInfo`]: `arns[0]` is the principal that signed, a user ARN, a role
//! session ARN or the root ARN; later entries are the IAM role behind a session), the action,
//! the resource and the condition keys. The input holds every policy layer, each optional:
//!
//! ```text
//! EvaluationInput {
//!     identity_policies: &[NamedPolicy],            // the user's (and groups') or the role's
//!     resource_policy: Option<&NamedPolicy>,        // bucket, key or trust policy
//!     resource_account: Option<&str>,               // None = the caller's account
//!     resource_policy_is_authoritative: bool,       // KMS key policies, role trust policies
//!     permissions_boundary: Option<&NamedPolicy>,   // the user's or the role's boundary
//!     session_policies: &[NamedPolicy],             // AssumeRole's Policy and PolicyArns
//!     service_control_policies: Option<OrganizationPolicies>,  // of the caller's account
//!     resource_control_policies: Option<OrganizationPolicies>, // of the resource's account
//!     vpc_endpoint_policy: Option<&NamedPolicy>,
//! }
//! OrganizationPolicies { management_account: &str, levels: &[PolicyLevel] } // root first
//! PolicyLevel { target: &str, policies: &[&NamedPolicy] }   // policies attached to one target
//! ```
//!
//! `EvaluationInput` derives `Default`, so a caller names only the layers it has. Give SCPs
//! and RCPs whenever the account is in an organization with the policy type enabled: the
//! engine itself leaves out the management account, service-linked roles (role path
//! `/aws-service-role/`) and, for SCPs, service principals.
//!
//! The [`Decision`] says what happened ([`Outcome`]: allowed, explicitly denied `by` a layer
//! ([`PolicySource`]), or implicitly denied because an allow was [`Missing`] in a layer), which
//! statement decided ([`Decision::deciding_statement`]), which layer
//! ([`Decision::deciding_layer`]), and for an SCP or RCP level without an allow, its target
//! ([`Decision::missing_at`]). For the wire:
//!
//! * [`Decision::aws_reason`]: AWS's tail, e.g. `with an explicit deny in a service control
//!   policy`, `because no permissions boundary allows the s3:GetObject action`;
//! * [`Decision::access_denied_message`]`(caller_arn, resource)`: the whole sentence `User: ...
//!   is not authorized to perform: ... on resource: ... <reason>`;
//! * [`Decision::explain`]: one line for logs and traces.
//!
//! # Evaluation rules
//!
//! 1. **Applicability.** A statement applies when its `Action`/`NotAction` covers the action
//!    (case-insensitive; `*` and `?` wildcards), its `Resource`/`NotResource` covers the resource
//!    (case-sensitive ARN match after policy variables are substituted; a `*` inside an ARN
//!    segment does not cross colons, a trailing one does), its `Principal`/`NotPrincipal`
//!    matches the caller (resource policies, RCPs and VPC endpoint policies only; a statement
//!    without a `Resource` element there covers the resource it is attached to), and every
//!    condition holds.
//! 2. **Explicit deny wins.** Any applicable `Deny`, in any policy of any layer, gives
//!    [`Outcome::ExplicitDeny`] whatever else allows; the trace names the statement.
//! 3. **Principals.** `"*"` and `{"AWS": "*"}` match anyone ([`PrincipalMatch::Anyone`]); the
//!    signing principal's own ARN matches directly ([`PrincipalMatch::Direct`]), the role behind
//!    a session as [`PrincipalMatch::Entity`]; an account ID or `arn:aws:iam::A:root` matches
//!    every principal of account A ([`PrincipalMatch::Account`]), except that for A's root user
//!    it is a direct match; `{"Service": ...}` matches a calling service. Principal ARNs never
//!    contain wildcards. `NotPrincipal` in a `Deny` excludes the caller only when it lists all
//!    of the caller's identities, its account included, and never a caller with a permissions
//!    boundary; `NotPrincipal` in an `Allow` (unsupported by AWS) never grants to a principal it
//!    names.
//! 4. **Layers** (no explicit deny), in AWS's order; `evaluate/decide.rs` quotes the guide:
//!    RCPs and SCPs (every level must allow), the VPC endpoint policy, then:
//!    * a service principal is allowed only by a resource statement naming the service or
//!      everyone;
//!    * **KMS key policies and role trust policies are authoritative**
//!      ([`EvaluationInput::resource_policy_is_authoritative`]): in the resource's own account
//!      the resource policy must allow the caller (or everyone); a statement naming only the
//!      account delegates to IAM, so it allows only together with an identity-policy allow.
//!      The root user is no exception here: it needs the key policy to name it or its account;
//!    * otherwise, in the same account, the root user is allowed; anyone else by the caller's
//!      own side (an identity-policy allow, then the permissions boundary, then session
//!      policies, each where present), or by a resource-policy allow naming the signing
//!      principal or everyone (which no boundary or session policy limits), or naming the role
//!      behind the session (limited by the boundary and session policies, not by identity
//!      policies). A resource policy naming the account only delegates to the caller's side;
//!    * across accounts both must allow: the caller's own side (implicit for its root user)
//!      **and** a resource-policy allow of any kind; without a resource policy the request is
//!      denied.
//!
//!    An implicit deny records which layer's allow was [`Missing`].
//! 5. **Conditions** follow AWS's operator semantics, including `...IfExists`, `Null`,
//!    `ForAnyValue:`/`ForAllValues:` and the rule that negated operators hold for an absent key;
//!    see the `condition` module. Keys without a `vendor:` prefix are never present.
//! 6. **Policy variables** (`${aws:username}`, `${key, 'default'}`, `${*}`, `${?}`, `${$}`) are
//!    live only in `"Version": "2012-10-17"` documents, in `Resource` entries and in string/ARN
//!    condition values. An unresolvable variable makes its entry match nothing.
//!
//! Every [`Decision`] carries a trace of the statements that applied and of near misses
//! (`Allow` statements whose action and resource matched but whose principal or a condition did
//! not), each with its layer ([`TraceEntry::source`]), and [`Decision::explain`] renders it as
//! one line.

mod condition;
mod context;
mod dates;
mod error;
mod evaluate;
mod formats;
mod matching;
mod model;
mod parse;
mod reason;
mod trace;
mod variables;

pub use condition::{
    BaseOperator, Cidr, Condition, ConditionOperator, ConditionValue, SetQualifier,
};
pub use context::{PrincipalInfo, RequestContext};
pub use error::PolicyError;
pub use evaluate::{evaluate, EvaluationInput, OrganizationPolicies, PolicyLevel};
pub use matching::{arn_match, wildcard_match};
pub use model::{
    ActionBlock, ActionPattern, AwsPrincipal, Effect, NamedPolicy, Policy, PolicyKind,
    PrincipalBlock, PrincipalSet, ResourceBlock, ResourcePattern, Statement, VERSION_2008_10_17,
    VERSION_2012_10_17,
};
pub use trace::{Decision, Missing, Outcome, PolicySource, PrincipalMatch, TraceEntry};

/// Fuzzing entry point: parses arbitrary bytes as every kind of document and evaluates whatever
/// parses against a few callers. Must never panic.
pub fn fuzz_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = [
        Policy::parse(text, PolicyKind::Identity),
        Policy::parse(text, PolicyKind::Resource),
        Policy::parse_trust_policy(text),
    ];
    for result in parsed {
        let policy = match result {
            Ok(policy) => policy,
            Err(error) => {
                let _ = (error.to_string(), error.detail());
                continue;
            }
        };
        let named = NamedPolicy::new("fuzz", policy);
        let callers = [
            PrincipalInfo::role_session(
                "111122223333",
                "arn:aws:sts::111122223333:assumed-role/R/s",
                "arn:aws:iam::111122223333:role/R",
            ),
            PrincipalInfo::root("111122223333"),
            PrincipalInfo::service("ec2.amazonaws.com"),
        ];
        for caller in callers {
            let context = RequestContext::new(
                caller,
                "kms:CreateGrant",
                "arn:aws:kms:us-east-1:111122223333:key/k",
            )
            .with_key("aws:username", "fuzz*?")
            .with_key("aws:SourceIp", "203.0.113.7")
            .with_key("aws:CurrentTime", "2024-06-01T12:00:00Z")
            .with_multi("aws:TagKeys", vec!["a".into(), "b".into()]);
            for (identity, resource) in [(true, false), (false, true), (true, true)] {
                let identity_policies = if identity {
                    std::slice::from_ref(&named)
                } else {
                    &[]
                };
                for authoritative in [false, true] {
                    for resource_account in [None, Some("444455556666")] {
                        let decision = evaluate(
                            &context,
                            &EvaluationInput {
                                identity_policies,
                                resource_policy: resource.then_some(&named),
                                resource_account,
                                resource_policy_is_authoritative: authoritative,
                                ..EvaluationInput::default()
                            },
                        );
                        let _ = (decision.explain(), decision.aws_reason());
                    }
                }
            }
            // The same document in every guardrail layer at once.
            let levels = [PolicyLevel {
                target: "r-fuzz",
                policies: &[&named],
            }];
            let organization = OrganizationPolicies {
                management_account: "999988887777",
                levels: &levels,
            };
            let decision = evaluate(
                &context,
                &EvaluationInput {
                    identity_policies: std::slice::from_ref(&named),
                    resource_account: Some("111122223333"),
                    permissions_boundary: Some(&named),
                    session_policies: std::slice::from_ref(&named),
                    service_control_policies: Some(organization),
                    resource_control_policies: Some(organization),
                    vpc_endpoint_policy: Some(&named),
                    ..EvaluationInput::default()
                },
            );
            let _ = (
                decision.explain(),
                decision.access_denied_message("caller", "resource"),
                decision.deciding_layer(),
            );
        }
    }
}
