//! The format checks of resource ARNs and actions, with IAM's texts (see `parse.rs` for where
//! each text comes from and in which order the checks run).

use crate::error::PolicyError;

fn legacy(detail: impl Into<String>) -> PolicyError {
    PolicyError::LegacyParsing {
        detail: detail.into(),
    }
}

const PARTITIONS: [&str; 8] = [
    "aws",
    "aws-cn",
    "aws-us-gov",
    "aws-iso",
    "aws-iso-b",
    "aws-iso-e",
    "aws-iso-f",
    "aws-eusc",
];

/// Format problems IAM reports after its presence checks (so they are collected, not returned).
pub(crate) fn resource_format_error(resource: &str) -> Option<PolicyError> {
    if resource == "*" {
        return None;
    }
    let parts: Vec<&str> = resource.split(':').collect();
    if parts.len() < 2 {
        return Some(PolicyError::ResourceNotArn {
            resource: resource.to_string(),
        });
    }
    let partition = parts[1];
    if partition != "*" && !PARTITIONS.contains(&partition) {
        // Rebuilt the way IAM prints it: missing segments shown as `*`.
        let service = match parts.get(2) {
            Some(s) if !s.is_empty() || parts.len() > 3 => s,
            _ => "*",
        };
        let segment = |i: usize| parts.get(i).copied().unwrap_or("*");
        let rest = if parts.len() > 5 {
            parts[5..].join(":")
        } else {
            "*".to_string()
        };
        return Some(PolicyError::InvalidPartition {
            partition: partition.to_string(),
            resource: format!(
                "arn:{partition}:{service}:{}:{}:{rest}",
                segment(3),
                segment(4)
            ),
        });
    }
    if parts.len() < 3 {
        return Some(PolicyError::ResourceVendorNotQualified {
            resource: resource.to_string(),
        });
    }
    let region = parts.get(3).copied().unwrap_or("");
    // The resource part, when the ARN has one and no variable (which may hold colons) comes
    // before it; short ARNs are left to legacy parsing.
    let resource_part = match resource.splitn(6, ':').nth(5) {
        Some(part) if !parts[..5].iter().any(|p| p.contains("${")) => Some(part),
        _ => None,
    };
    match parts[2] {
        "iam" if !region.is_empty() => Some(PolicyError::IamResourceWithRegion {
            resource: resource.to_string(),
        }),
        "iam" if resource_part.is_some_and(|part| !is_iam_resource_path(part)) => {
            Some(PolicyError::IamResourcePath {
                resource: resource.to_string(),
            })
        }
        // Access points are regional: `arn:aws:s3:us-east-1:111122223333:accesspoint/ap`.
        "s3" if !region.is_empty()
            && !resource_part.is_some_and(|part| part.starts_with("accesspoint/")) =>
        {
            Some(PolicyError::S3ResourceWithRegion {
                resource: resource.to_string(),
            })
        }
        _ => None,
    }
}

/// The resource types IAM accepts after `arn:aws:iam::<account>:`, as IAM's own message lists
/// them; besides these only `*` and `root` are accepted.
const IAM_RESOURCE_TYPES: [&str; 13] = [
    "user/",
    "federated-user/",
    "role/",
    "group/",
    "instance-profile/",
    "mfa/",
    "server-certificate/",
    "policy/",
    "sms-mfa/",
    "saml-provider/",
    "oidc-provider/",
    "report/",
    "access-report/",
];

fn is_iam_resource_path(resource_part: &str) -> bool {
    resource_part == "*"
        || resource_part == "root"
        || IAM_RESOURCE_TYPES
            .iter()
            .any(|prefix| resource_part.starts_with(prefix))
}

/// The actions a role trust policy may name (case-insensitively): STS's assume-role actions and
/// the session attributes they carry. Wildcards are refused, `sts:*` and `*` included.
const ASSUME_ROLE_ACTIONS: [&str; 6] = [
    "sts:AssumeRole",
    "sts:AssumeRoleWithSAML",
    "sts:AssumeRoleWithWebIdentity",
    "sts:TagSession",
    "sts:SetSourceIdentity",
    "sts:SetContext",
];

pub(crate) fn is_assume_role_action(action: &str) -> bool {
    ASSUME_ROLE_ACTIONS
        .iter()
        .any(|allowed| allowed.eq_ignore_ascii_case(action))
}

pub(crate) fn check_resource_legacy(index: usize, resource: &str) -> Result<(), PolicyError> {
    if resource == "*" {
        return Ok(());
    }
    let colons = resource.bytes().filter(|&b| b == b':').count();
    if colons < 5 && resource.contains("::") {
        return Err(legacy(format!(
            "statement #{index}: resource '{resource}' has fewer than six ARN segments"
        )));
    }
    if resource.split(':').nth(2).is_some_and(str::is_empty) {
        return Err(legacy(format!(
            "statement #{index}: resource '{resource}' has an empty service segment"
        )));
    }
    Ok(())
}

pub(crate) fn check_action(action: &str) -> Result<(), PolicyError> {
    if action == "*" {
        return Ok(());
    }
    let mut parts = action.split(':');
    let vendor = parts.next().unwrap_or_default();
    match (parts.next(), parts.next()) {
        (None, _) => {
            return Err(PolicyError::MissingVendor {
                value: action.to_string(),
            })
        }
        (Some(_), Some(_)) => {
            return Err(PolicyError::TooManyColons {
                value: action.to_string(),
            })
        }
        (Some(_), None) => {}
    }
    let vendor_is_valid = vendor == "*"
        || vendor
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    if !vendor_is_valid {
        return Err(PolicyError::InvalidVendor {
            vendor: vendor.to_string(),
        });
    }
    Ok(())
}
