//! Words for a decision: AWS's AccessDenied sentence and a one-line explanation for people.
//!
//! # AWS's wording
//!
//! Since 2021 AWS ends an AccessDenied message with the policy type that denied (IAM User
//! Guide, "Troubleshooting access denied error messages"): `with an explicit deny in a <type>`
//! for a `Deny` statement and `because no <type> allows the <action> action` for a missing
//! allow, where `<type>` is one of `identity-based policy`, `resource-based policy`,
//! `permissions boundary`, `session policy`, `service control policy`, `resource control
//! policy` and `VPC endpoint policy`. When several types deny, AWS names only one; wana names
//! the first in AWS's evaluation order (RCPs, SCPs, VPC endpoint policy, resource-based,
//! identity-based, permissions boundary, session policies).
//!
//! Sources for texts the guide words differently or not at all:
//! * SCP implicit deny: the 2023 guide said SCP denials always read "explicit deny"; AWS now
//!   answers `because no service control policy allows the ssm:GetParameter action` (a recorded
//!   CDK deployment failure quoted in a public repository), and that is the form used.
//! * Session policy explicit deny: the guide's example reads "a sessions policy"; AWS answers
//!   `with an explicit deny in a session policy` (recorded Terraform failure of
//!   `ec2:DescribeImages`, quoted in a public repository).
//! * RCP implicit deny (`because no resource control policy allows ...`) follows the pattern
//!   but is never seen on AWS: `RCPFullAWSAccess` is attached to every target and cannot be
//!   detached.

use crate::model::Effect;
use crate::trace::{Decision, Missing, Outcome, PrincipalMatch};

impl Decision {
    /// AWS's tail of an AccessDenied message, e.g. `because no identity-based policy allows the
    /// iam:CreateUser action`, `with an explicit deny in a service control policy` or `because
    /// no permissions boundary allows the s3:GetObject action`; `None` when allowed. See the
    /// module documentation for where each text comes from.
    pub fn aws_reason(&self) -> Option<String> {
        match self.outcome {
            Outcome::Allow => None,
            Outcome::ExplicitDeny { by } => Some(format!(
                "with an explicit deny in {}",
                by.aws_name_with_article()
            )),
            Outcome::ImplicitDeny { missing } => Some(format!(
                "because no {} allows the {} action",
                missing.layer().aws_name(),
                self.action
            )),
        }
    }

    /// AWS's whole AccessDenied sentence: `User: <caller_arn> is not authorized to perform:
    /// <action> on resource: <resource> <reason>`; `None` when allowed.
    pub fn access_denied_message(&self, caller_arn: &str, resource: &str) -> Option<String> {
        let reason = self.aws_reason()?;
        Some(format!(
            "User: {caller_arn} is not authorized to perform: {} on resource: {resource} {reason}",
            self.action
        ))
    }

    /// One readable line, e.g. `allowed by key-policy statement 'AllowUseViaEC2' (#1)` or
    /// `no statement allowed kms:CreateGrant; denied implicitly: no resource-based policy allows
    /// it`.
    pub fn explain(&self) -> String {
        match self.outcome {
            Outcome::Allow => {
                if self.allowed_as_root && self.deciding.is_none() {
                    return format!(
                        "allowed: {} by the root user of the owning account",
                        self.action
                    );
                }
                let mut line = match self.deciding_statement() {
                    Some(entry) => format!("allowed by {}", entry.label()),
                    None => format!("allowed: {}", self.action),
                };
                if let Some(support) = self.supporting_statement() {
                    line.push_str(" together with ");
                    line.push_str(&support.label());
                }
                line
            }
            Outcome::ExplicitDeny { by } => match self.deciding_statement() {
                Some(entry) => {
                    format!("explicitly denied by {} ({})", entry.label(), by.aws_name())
                }
                None => format!("explicitly denied by {}", by.aws_name_with_article()),
            },
            Outcome::ImplicitDeny { missing } => {
                let applied_allows: Vec<String> = self
                    .trace
                    .iter()
                    .filter(|e| e.applied && e.effect == Effect::Allow)
                    .map(|e| match e.matched_via {
                        Some(PrincipalMatch::Account) => {
                            format!("{} (account delegation only)", e.label())
                        }
                        _ => e.label(),
                    })
                    .collect();
                let head = if applied_allows.is_empty() {
                    format!("no statement allowed {}", self.action)
                } else {
                    format!(
                        "{} was allowed only by {}",
                        self.action,
                        applied_allows.join(", ")
                    )
                };
                let why = match missing {
                    Missing::Both => {
                        "neither an identity-based nor a resource-based policy allows it"
                            .to_string()
                    }
                    Missing::ServiceControlAllow { level }
                    | Missing::ResourceControlAllow { level } => {
                        format!(
                            "no {} attached to {} (level {level} from the root) allows it",
                            missing.layer().aws_name(),
                            self.missing_at.as_deref().unwrap_or("its target")
                        )
                    }
                    other => format!("no {} allows it", other.layer().aws_name()),
                };
                let mut line = format!("{head}; denied implicitly: {why}");
                for miss in self.near_misses() {
                    line.push_str(&format!("; near miss: {}: {}", miss.label(), miss.note));
                }
                line
            }
        }
    }
}
