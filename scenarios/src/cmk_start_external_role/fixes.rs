//! The fixes: the [`Fix`] variants, valid and invalid, and the key-policy statements they add.

use serde_json::{json, Value};
use wana_harness::{msg_tr, note_tr, HarnessError, Note, RunContext};

use super::{Provisioned, ROLE_NAME};

/// A change the customer makes so that the role's starts work again, valid or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fix {
    /// The report's fix: two key-policy statements for the role, use of the key only via EC2
    /// in the instance's region, and `kms:CreateGrant` only for AWS resources.
    ReportKeyPolicy,
    /// An IAM policy on the role allowing `kms:CreateGrant` on the key for AWS resources; valid
    /// because the default key policy delegates to the account's IAM policies.
    IamCreateGrantForAwsResource,
    /// Wrong: only the "use via EC2" statement, no `kms:CreateGrant`, so EC2 cannot create its
    /// grant for the session.
    KeyPolicyWithoutCreateGrant,
    /// Wrong: `kms:CreateGrant` given to the vendor's account instead of the role. The session
    /// belongs to the customer's account; a statement for account b never matches it.
    KeyPolicyCreateGrantForVendorAccount,
    /// Wrong: both statements limited to EC2 in another region (`kms:ViaService` copied from the
    /// report, which ran in ap-northeast-1).
    KeyPolicyViaAnotherRegion,
}

impl Fix {
    pub const ALL: [Fix; 5] = [
        Fix::ReportKeyPolicy,
        Fix::IamCreateGrantForAwsResource,
        Fix::KeyPolicyWithoutCreateGrant,
        Fix::KeyPolicyCreateGrantForVendorAccount,
        Fix::KeyPolicyViaAnotherRegion,
    ];

    /// Applies the fix as the customer's administrator, recording each call.
    pub async fn apply(self, ctx: &mut RunContext, p: &Provisioned) -> Result<(), HarnessError> {
        let role = p.role_arn.as_str();
        let region = p.region.as_str();
        let statements = match self {
            Fix::ReportKeyPolicy => report_statements(role, region),
            Fix::IamCreateGrantForAwsResource => {
                let policy = json!({
                    "Version": "2012-10-17",
                    "Statement": [{
                        "Sid": "CreateGrantsForEncryptedVolumes",
                        "Effect": "Allow",
                        "Action": "kms:CreateGrant",
                        "Resource": p.key_arn,
                        "Condition": {"Bool": {"kms:GrantIsForAWSResource": "true"}}
                    }]
                });
                note_tr!(ctx.recorder, "notes.cmk_start_external_role.fix_iam_policy", role = ROLE_NAME);
                let role_name = ctx.name(ROLE_NAME);
                let result = p
                    .customer
                    .iam()
                    .put_role_policy()
                    .role_name(&role_name)
                    .policy_name("UseVolumeKeyViaEc2")
                    .policy_document(policy.to_string())
                    .send()
                    .await;
                let label = p.customer.label.clone();
                ctx.recorder.record_sdk(&label, "iam:PutRolePolicy", result, |_| {
                    json!({ "RoleName": role_name, "PolicyName": "UseVolumeKeyViaEc2", "PolicyDocument": policy })
                })?;
                return Ok(());
            }
            Fix::KeyPolicyWithoutCreateGrant => vec![use_via_ec2_statement(role, region)],
            Fix::KeyPolicyCreateGrantForVendorAccount => {
                let vendor_root = format!("arn:aws:iam::{}:root", p.vendor.account);
                vec![
                    use_via_ec2_statement(role, region),
                    create_grant_statement(&vendor_root, None),
                ]
            }
            Fix::KeyPolicyViaAnotherRegion => {
                let elsewhere = other_region(region);
                vec![
                    use_via_ec2_statement(role, elsewhere),
                    create_grant_statement(role, Some(elsewhere)),
                ]
            }
        };
        note_tr!(ctx.recorder, "notes.cmk_start_external_role.fix", fix = self.description_note());
        add_key_policy_statements(ctx, p, statements).await
    }

    /// [`Fix::description`] as a message of the catalog (English and Japanese).
    pub fn description_note(self) -> Note {
        match self {
            Fix::ReportKeyPolicy => msg_tr!(_, "notes.cmk_start_external_role.fix.report_key_policy"),
            Fix::IamCreateGrantForAwsResource => msg_tr!(_, "notes.cmk_start_external_role.fix.iam_create_grant"),
            Fix::KeyPolicyWithoutCreateGrant => msg_tr!(_, "notes.cmk_start_external_role.fix.without_create_grant"),
            Fix::KeyPolicyCreateGrantForVendorAccount => msg_tr!(_, "notes.cmk_start_external_role.fix.create_grant_for_vendor_account"),
            Fix::KeyPolicyViaAnotherRegion => msg_tr!(_, "notes.cmk_start_external_role.fix.via_another_region"),
        }
    }

    pub fn description(self) -> &'static str {
        match self {
            Fix::ReportKeyPolicy => {
                "the report's two key-policy statements for the role: use of the key only via EC2 \
                 in this region, and kms:CreateGrant only for AWS resources"
            }
            Fix::IamCreateGrantForAwsResource => {
                "an IAM policy on the role allowing kms:CreateGrant for AWS resources"
            }
            Fix::KeyPolicyWithoutCreateGrant => {
                "a key-policy statement letting the role use the key via EC2, without \
                 kms:CreateGrant"
            }
            Fix::KeyPolicyCreateGrantForVendorAccount => {
                "the key-policy statements, with kms:CreateGrant given to the vendor's account \
                 instead of the role"
            }
            Fix::KeyPolicyViaAnotherRegion => {
                "the key-policy statements, both restricted by kms:ViaService to EC2 in another \
                 region"
            }
        }
    }
}

/// The report's two statements for `role_arn` (aws-traps.md, Trap 3, "Fix (from the trap)").
pub fn report_statements(role_arn: &str, region: &str) -> Vec<Value> {
    vec![
        use_via_ec2_statement(role_arn, region),
        create_grant_statement(role_arn, None),
    ]
}

/// `current` (a key policy document) with `statements` appended: what editing the key policy
/// in the console does.
pub fn with_statements(current: &str, statements: Vec<Value>) -> Result<String, HarnessError> {
    let mut policy: Value = serde_json::from_str(current)
        .map_err(|err| HarnessError::Scenario(format!("the key policy is not JSON: {err}")))?;
    let field = policy
        .get_mut("Statement")
        .ok_or_else(|| HarnessError::Scenario("the key policy has no Statement".into()))?;
    // A single statement may be written without the array.
    if field.is_object() {
        *field = Value::Array(vec![field.take()]);
    }
    let Value::Array(list) = field else {
        return Err(HarnessError::Scenario(
            "the key policy's Statement is neither a list nor a statement".into(),
        ));
    };
    list.extend(statements);
    serde_json::to_string_pretty(&policy)
        .map_err(|err| HarnessError::Scenario(format!("cannot write the key policy: {err}")))
}

fn use_via_ec2_statement(principal: &str, region: &str) -> Value {
    json!({
        "Sid": "AllowUseViaEC2",
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": format!("ec2.{region}.amazonaws.com")}}
    })
}

fn create_grant_statement(principal: &str, via_region: Option<&str>) -> Value {
    let mut condition = json!({"Bool": {"kms:GrantIsForAWSResource": "true"}});
    if let Some(region) = via_region {
        condition["StringEquals"] =
            json!({"kms:ViaService": format!("ec2.{region}.amazonaws.com")});
    }
    json!({
        "Sid": "AllowGrantsForAWSResources",
        "Effect": "Allow",
        "Principal": {"AWS": principal},
        "Action": "kms:CreateGrant",
        "Resource": "*",
        "Condition": condition
    })
}

/// The report's region, unless the run is there; then another one.
pub(super) fn other_region(region: &str) -> &'static str {
    if region == "ap-northeast-1" {
        "us-west-2"
    } else {
        "ap-northeast-1"
    }
}

/// Reads the key policy, appends `statements`, and puts it back, as `admin@c`.
async fn add_key_policy_statements(
    ctx: &mut RunContext,
    p: &Provisioned,
    statements: Vec<Value>,
) -> Result<(), HarnessError> {
    let kms = aws_sdk_kms::Client::new(&p.customer.config);
    let label = p.customer.label.clone();
    let current = kms
        .get_key_policy()
        .key_id(&p.key_arn)
        .policy_name("default")
        .send()
        .await;
    let current = ctx.recorder.record_sdk(
        &label,
        "kms:GetKeyPolicy",
        current,
        |out| json!({ "Sids": policy_sids(out.policy().unwrap_or_default()) }),
    )?;
    let added: Vec<Value> = statements.clone();
    let policy = with_statements(current.policy().unwrap_or_default(), statements)?;
    let result = kms
        .put_key_policy()
        .key_id(&p.key_arn)
        .policy_name("default")
        .policy(&policy)
        .send()
        .await;
    ctx.recorder.record_sdk(
        &label,
        "kms:PutKeyPolicy",
        result,
        |_| json!({ "AddedStatements": added }),
    )?;
    Ok(())
}

pub(super) fn policy_sids(text: &str) -> Vec<String> {
    let Ok(policy) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    let statements = match &policy["Statement"] {
        Value::Array(list) => list.clone(),
        single @ Value::Object(_) => vec![single.clone()],
        _ => Vec::new(),
    };
    statements
        .iter()
        .map(|s| s["Sid"].as_str().unwrap_or("(no Sid)").to_string())
        .collect()
}
