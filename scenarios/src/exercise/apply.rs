//! The AWS calls that apply a participant's fix, shared by the traps: each is recorded as a
//! step, and AWS's refusal (`MalformedPolicyDocument`, `AccessDenied`, ...) is returned in the
//! [`Applied`], not as an error of the run.

use serde_json::{json, Value};
use wana_harness::{Principal, RunContext, StepError};

use super::Applied;

/// The name of the inline policy a participant's IAM policy is put as.
pub const FIX_POLICY_NAME: &str = "participant-fix";

fn applied<T>(call: String, who: &Principal, result: Result<T, StepError>) -> Applied {
    Applied { call, principal: who.label.clone(), error: result.err(), output: None }
}

/// `kms put-key-policy` on `key` as `who`.
pub async fn put_key_policy(ctx: &mut RunContext, who: &Principal, key: &str, document: &str) -> Applied {
    let result = aws_sdk_kms::Client::new(&who.config).put_key_policy().key_id(key).policy_name("default").policy(document).send().await;
    let result = ctx.recorder.record_sdk(&who.label, "kms:PutKeyPolicy", result, |_| json!({ "KeyId": key, "Policy": policy_value(document) }));
    applied(format!("kms:PutKeyPolicy on {key}"), who, result)
}

/// `iam put-role-policy` (or `attach-role-policy` for a managed policy's ARN) on `role` as `who`.
pub async fn put_role_policy(ctx: &mut RunContext, who: &Principal, role: &str, document: &str) -> Applied {
    let iam = who.iam();
    let trimmed = document.trim();
    if trimmed.starts_with("arn:") && !trimmed.contains(char::is_whitespace) {
        let result = iam.attach_role_policy().role_name(role).policy_arn(trimmed).send().await;
        let result = ctx.recorder.record_sdk(&who.label, "iam:AttachRolePolicy", result, |_| json!({ "RoleName": role, "PolicyArn": trimmed }));
        return applied(format!("iam:AttachRolePolicy {trimmed} to {role}"), who, result);
    }
    let result = iam.put_role_policy().role_name(role).policy_name(FIX_POLICY_NAME).policy_document(document).send().await;
    let result = ctx.recorder.record_sdk(&who.label, "iam:PutRolePolicy", result, |_| {
        json!({ "RoleName": role, "PolicyName": FIX_POLICY_NAME, "PolicyDocument": policy_value(document) })
    });
    applied(format!("iam:PutRolePolicy {FIX_POLICY_NAME} on {role}"), who, result)
}

/// `iam update-assume-role-policy` on `role` as `who`.
pub async fn update_trust_policy(ctx: &mut RunContext, who: &Principal, role: &str, document: &str) -> Applied {
    let result = who.iam().update_assume_role_policy().role_name(role).policy_document(document).send().await;
    let result =
        ctx.recorder.record_sdk(&who.label, "iam:UpdateAssumeRolePolicy", result, |_| json!({ "RoleName": role, "PolicyDocument": policy_value(document) }));
    applied(format!("iam:UpdateAssumeRolePolicy on {role}"), who, result)
}

/// `kms create-grant` with the arguments of `document` (the `--generate-cli-skeleton` shape) as
/// `who`; `KeyId` defaults to `default_key`.
pub async fn create_grant(ctx: &mut RunContext, who: &Principal, default_key: &str, document: &str) -> Applied {
    let args: Value = match serde_json::from_str(document) {
        Ok(value) => value,
        Err(err) => {
            let error = StepError::new("InvalidCliInput", format!("the grant is not JSON: {err}"));
            return Applied { call: "kms:CreateGrant".into(), principal: who.label.clone(), error: Some(error), output: None };
        }
    };
    let text = |name: &str| args.get(name).and_then(Value::as_str).map(str::to_string);
    let key = text("KeyId").unwrap_or_else(|| default_key.to_string());
    let mut request = aws_sdk_kms::Client::new(&who.config).create_grant().key_id(&key).set_grantee_principal(text("GranteePrincipal"));
    request = request.set_retiring_principal(text("RetiringPrincipal")).set_name(text("Name"));
    for operation in args.get("Operations").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str) {
        request = request.operations(operation.into());
    }
    if let Some(constraints) = args.get("Constraints") {
        let context = |name: &str| {
            constraints.get(name).and_then(Value::as_object).map(|map| {
                map.iter().map(|(k, v)| (k.clone(), v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect()
            })
        };
        let built = aws_sdk_kms::types::GrantConstraints::builder()
            .set_encryption_context_subset(context("EncryptionContextSubset"))
            .set_encryption_context_equals(context("EncryptionContextEquals"))
            .build();
        request = request.constraints(built);
    }
    let result = request.send().await;
    let result = ctx.recorder.record_sdk(&who.label, "kms:CreateGrant", result, |out| {
        json!({ "KeyId": key, "GranteePrincipal": args.get("GranteePrincipal"), "Operations": args.get("Operations"), "GrantId": out.grant_id() })
    });
    applied(format!("kms:CreateGrant on {key}"), who, result)
}

/// A policy as JSON in reports where it parses, else the text.
fn policy_value(document: &str) -> Value {
    serde_json::from_str(document).unwrap_or_else(|_| Value::String(document.to_string()))
}
