//! AssumeRole's session policies: `Policy` (an inline identity policy) and `PolicyArns` (up to
//! ten managed policies). The session may then do only what its role's policies **and** one of
//! the session policies allow (IAM user guide, "Session policies"); the policy engine applies
//! that, `crate::state::authorize` hands it the policies of each request's session.
//!
//! # Limits
//!
//! AWS documents that "the plaintext that you use for both inline and managed session policies
//! can't exceed 2,048 characters", and that STS packs the inline policy, the managed policy ARNs
//! and the session tags into a binary form with a separate limit, reporting how much of it a
//! request used as `PackedPolicySize` (a percentage) and refusing more than 100% with
//! `PackedPolicyTooLarge` "Packed policy consumes N% of allotted space, please use smaller
//! policy." (AWS knowledge center, "PackedPolicyTooLarge"). Modelled here, not confirmed:
//! * an inline policy over 2,048 characters is the front end's `ValidationError` at `policy`
//!   (the service model's former `sessionPolicyDocumentType` had that maximum);
//! * the packed form is the inline policy without whitespace plus every ARN, against 2,048
//!   characters. AWS compresses, so its percentage is lower for repetitive documents; what the
//!   model keeps is that a request can fail the packed limit while each part is within its own.
//!
//! A managed policy ARN is not looked up when the session starts (not confirmed either way); a
//! policy that does not exist when a request is decided allows nothing.

use wana_policy::{NamedPolicy, Policy, PolicyKind};

use crate::{
    error::AwsError,
    services::Call,
    state::{iam::policy_size, SessionPolicies},
    validation::Violations,
    value::Value,
};

/// Longest inline session policy, in characters.
pub const MAX_INLINE_POLICY: usize = 2048;
/// Most managed session policies.
pub const MAX_POLICY_ARNS: usize = 10;
/// What 100% of `PackedPolicySize` holds in the model (see the module documentation).
pub const PACKED_BUDGET: usize = 2048;

/// The name of the inline session policy in decision traces.
pub const INLINE_POLICY_NAME: &str = "inline session policy";

/// The session policies of an AssumeRole request, checked, with their packed size; `None` when
/// the request passes none.
pub fn read(call: &Call<'_>) -> Result<Option<(SessionPolicies, u32)>, AwsError> {
    let inline = call.optional("Policy");
    let arn_items = call.params.get("PolicyArns").map(Value::as_list).unwrap_or(&[]);
    let mut violations = Violations::new();
    if let Some(text) = inline {
        violations.length("policy", text, 1, MAX_INLINE_POLICY);
        let printable = text.chars().all(|c| matches!(c, '\t' | '\n' | '\r') || ('\u{20}'..='\u{ff}').contains(&c));
        if text.is_empty() || !printable {
            violations.push(
                "policy",
                text,
                r"Member must satisfy regular expression pattern: [\u0009\u000A\u000D\u0020-\u00FF]+",
            );
        }
    }
    if arn_items.len() > MAX_POLICY_ARNS {
        violations.push_without_value(
            "policyArns",
            format!("Member must have length less than or equal to {MAX_POLICY_ARNS}"),
        );
    }
    let mut arns = Vec::new();
    for (i, item) in arn_items.iter().enumerate() {
        let member = format!("policyArns.{}.member.arn", i + 1);
        match item.get("arn").and_then(Value::as_str) {
            Some(arn) => {
                violations.length(&member, arn, 20, 2048);
                arns.push(arn.to_string());
            }
            None => violations.push_null(&member, "Member must not be null"),
        }
    }
    if let Some(message) = violations.message() {
        return Err(AwsError::validation(message));
    }
    if inline.is_none() && arns.is_empty() {
        return Ok(None);
    }
    let inline = match inline {
        Some(text) => Some(Box::new(NamedPolicy::new(
            INLINE_POLICY_NAME,
            Policy::parse(text, PolicyKind::Identity)
                .map_err(|e| AwsError::new("MalformedPolicyDocument", 400, e.to_string()))?,
        ))),
        None => None,
    };
    let packed = packed_size(call.optional("Policy"), &arns);
    if packed > 100 {
        return Err(AwsError::new(
            "PackedPolicyTooLarge",
            400,
            format!("Packed policy consumes {packed}% of allotted space, please use smaller policy."),
        ));
    }
    Ok(Some((SessionPolicies { inline, arns }, packed)))
}

/// `PackedPolicySize` in the model: the share of [`PACKED_BUDGET`] the inline policy (without
/// whitespace) and the ARNs take, rounded up.
pub fn packed_size(inline: Option<&str>, arns: &[String]) -> u32 {
    let used = inline.map(policy_size).unwrap_or(0) + arns.iter().map(String::len).sum::<usize>();
    u32::try_from(used.saturating_mul(100).div_ceil(PACKED_BUDGET)).unwrap_or(u32::MAX)
}
