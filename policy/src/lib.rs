//! The AWS IAM policy language for the wana emulator: parsing, validation and evaluation, with
//! an explanation of every decision. Pure: no I/O, no clocks, no global state.
//!
//! # Parsing
//!
//! [`Policy::parse`] validates a JSON document the way IAM does and, on failure, returns a
//! [`PolicyError`] whose `Display` is AWS's own `MalformedPolicyDocument` text (the module
//! documentation of `parse.rs` lists every text and which ones are confirmed). Parsing does the
//! per-document work once (lower-casing actions, classifying wildcard patterns, typing condition
//! values) so that [`evaluate`] stays allocation-light.
//!
//! # Evaluation rules
//!
//! [`evaluate`] answers one [`RequestContext`] (principal, action, resource, condition keys)
//! against the caller's identity-based policies and, optionally, the resource's policy.
//!
//! 1. **Applicability.** A statement applies when its `Action`/`NotAction` covers the action
//!    (case-insensitive; `*` and `?` wildcards), its `Resource`/`NotResource` covers the resource
//!    (case-sensitive ARN match after policy variables are substituted; a `*` inside an ARN
//!    segment does not cross colons, a trailing one does), its `Principal`/`NotPrincipal`
//!    matches the caller (resource-based policies only; a resource statement without a
//!    `Resource` element covers the resource it is attached to), and every condition holds.
//! 2. **Explicit deny wins.** Any applicable `Deny`, in any policy, gives
//!    [`Outcome::ExplicitDeny`] whatever else allows; the trace names the statement.
//! 3. **Principals.** `"*"` and `{"AWS": "*"}` match anyone ([`PrincipalMatch::Anyone`]); an ARN
//!    listed in [`PrincipalInfo::arns`] matches directly (a role session carries both its
//!    session ARN and its role ARN); an account ID or `arn:aws:iam::A:root` matches every
//!    principal of account A ([`PrincipalMatch::Account`]), except that for A's root user it is
//!    a direct match; `{"Service": ...}` matches a calling service. Principal ARNs never contain
//!    wildcards. `NotPrincipal` excludes the caller only when it lists all of the caller's
//!    identities, its account included.
//! 4. **Combining policies** (no explicit deny):
//!    * a service principal is allowed only by a resource statement naming the service or
//!      everyone;
//!    * **KMS key policies and role trust policies are authoritative**
//!      ([`EvaluationInput::resource_policy_is_authoritative`]): in the resource's own account
//!      the resource policy must allow the caller directly (or everyone); a statement naming only
//!      the account delegates to IAM, so it allows only together with an identity-policy allow.
//!      IAM allows without such a delegation have no effect; IAM denies still apply (rule 2).
//!      The root user is no exception here: it needs the key policy to name it or its account;
//!    * otherwise, in the same account, the root user is allowed, and anyone else is allowed by
//!      an identity-policy allow or by a resource-policy allow naming them directly or everyone
//!      (a resource policy naming the account only delegates to IAM);
//!    * across accounts both sides must allow: an identity-policy allow in the caller's account
//!      (implicit for its root user) **and** a resource-policy allow of any kind; without a
//!      resource policy the request is denied.
//!
//!    An implicit deny records what was [`Missing`], which selects AWS's "because no
//!    identity-based policy allows the X action" or "because no resource-based policy allows
//!    the X action" wording ([`Decision::aws_reason`]).
//! 5. **Conditions** follow AWS's operator semantics, including `...IfExists`, `Null`,
//!    `ForAnyValue:`/`ForAllValues:` and the rule that negated operators hold for an absent key;
//!    see the `condition` module.
//! 6. **Policy variables** (`${aws:username}`, `${key, 'default'}`, `${*}`, `${?}`, `${$}`) are
//!    live only in `"Version": "2012-10-17"` documents, in `Resource` entries and in string/ARN
//!    condition values. An unresolvable variable makes its entry match nothing.
//!
//! Every [`Decision`] carries a trace of the statements that applied and of near misses
//! (`Allow` statements whose action and resource matched but whose principal or a condition did
//! not), and [`Decision::explain`] renders it as one line.

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
        }
    }
}
