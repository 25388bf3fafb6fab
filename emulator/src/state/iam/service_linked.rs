//! Service-linked roles: the roles a service uses on the account's behalf, named after the
//! service and kept under `/aws-service-role/<service>/`, where only AWS may change them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::{
    errors, find_key, parse_trust_document, role_arn, trust_policy_name, IamState, Role, DEFAULT_MAX_SESSION_DURATION,
    ROLES_PER_ACCOUNT, SERVICE_LINKED_ROLE_PATH,
};
use crate::{error::AwsError, ids::IdGenerator, state::aws_managed};

/// How `CreateServiceLinkedRole` names and equips the role of a service.
struct ServiceLinkedRoleKind {
    role_name: String,
    /// The AWS managed policy AWS attaches, when the emulator's catalogue has it.
    policy_arn: Option<&'static str>,
    description: Option<&'static str>,
}

fn service_linked_role_kind(service: &str) -> Option<ServiceLinkedRoleKind> {
    let known: &[(&str, &str, Option<&'static str>, Option<&'static str>)] = &[
        (
            "autoscaling.amazonaws.com",
            "AutoScaling",
            Some("arn:aws:iam::aws:policy/aws-service-role/AutoScalingServiceRolePolicy"),
            Some("Default Service-Linked Role enables access to AWS Services and Resources used or managed by Auto Scaling"),
        ),
        (
            "events.amazonaws.com",
            "CloudWatchEvents",
            Some("arn:aws:iam::aws:policy/aws-service-role/CloudWatchEventsServiceRolePolicy"),
            None,
        ),
        ("elasticloadbalancing.amazonaws.com", "ElasticLoadBalancing", None, None),
        ("ssm.amazonaws.com", "AmazonSSM", None, None),
        ("ecs.amazonaws.com", "ECS", None, None),
        ("spot.amazonaws.com", "EC2Spot", None, None),
        ("ec2fleet.amazonaws.com", "EC2Fleet", None, None),
        ("rds.amazonaws.com", "RDS", None, None),
        ("es.amazonaws.com", "AmazonElasticsearchService", None, None),
        ("organizations.amazonaws.com", "Organizations", None, None),
        ("trustedadvisor.amazonaws.com", "TrustedAdvisor", None, None),
        ("config.amazonaws.com", "Config", None, None),
    ];
    if let Some((_, suffix, policy_arn, description)) = known.iter().find(|(s, ..)| *s == service) {
        return Some(ServiceLinkedRoleKind {
            role_name: format!("AWSServiceRoleFor{suffix}"),
            policy_arn: *policy_arn,
            description: *description,
        });
    }
    let prefix = service.strip_suffix(".amazonaws.com")?;
    let label = prefix.split('.').next().filter(|l| !l.is_empty())?;
    let mut capitalised = String::with_capacity(label.len());
    let mut upper = true;
    for c in label.chars() {
        if c == '-' {
            upper = true;
            continue;
        }
        if upper {
            capitalised.extend(c.to_uppercase());
            upper = false;
        } else {
            capitalised.push(c);
        }
    }
    Some(ServiceLinkedRoleKind { role_name: format!("AWSServiceRoleFor{capitalised}"), policy_arn: None, description: None })
}

/// The name CreateServiceLinkedRole gives the role of a service (`AWSServiceRoleForAutoScaling`),
/// with `_<suffix>` when a custom suffix is asked for.
pub fn service_linked_role_name(service: &str, custom_suffix: Option<&str>) -> Option<String> {
    let kind = service_linked_role_kind(service)?;
    Some(match custom_suffix {
        Some(suffix) => format!("{}_{suffix}", kind.role_name),
        None => kind.role_name,
    })
}

/// The ARN the service-linked role of a service has (or will have) in an account.
pub fn service_linked_role_arn(account: &str, service: &str, custom_suffix: Option<&str>) -> Option<String> {
    let name = service_linked_role_name(service, custom_suffix)?;
    Some(role_arn(account, &format!("{SERVICE_LINKED_ROLE_PATH}{service}/"), &name))
}

impl IamState {
    /// CreateServiceLinkedRole: the role a service uses on the account's behalf, at
    /// `/aws-service-role/<service>/`, trusted by that service, with the service's policy.
    pub fn create_service_linked_role(
        &mut self,
        ids: &mut IdGenerator,
        account: &str,
        now: DateTime<Utc>,
        service: &str,
        description: Option<&str>,
        custom_suffix: Option<&str>,
    ) -> Result<&Role, AwsError> {
        let kind = service_linked_role_kind(service)
            .ok_or_else(|| errors::invalid_input(format!("Invalid service name: {service}")))?;
        let name = match custom_suffix {
            Some(suffix) => format!("{}_{suffix}", kind.role_name),
            None => kind.role_name.clone(),
        };
        if find_key(&self.roles, &name).is_some() {
            return Err(errors::invalid_input(format!(
                "Service role name {name} has been taken in this account, please try a different suffix."
            )));
        }
        if self.roles.len() >= ROLES_PER_ACCOUNT {
            return Err(errors::quota("RolesPerAccount", ROLES_PER_ACCOUNT));
        }
        let path = format!("{SERVICE_LINKED_ROLE_PATH}{service}/");
        let trust_text = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":{{"Service":["{service}"]}},"Action":["sts:AssumeRole"]}}]}}"#
        );
        let trust_policy = parse_trust_document(&trust_text, trust_policy_name(&name))?;
        let id = ids.unique_id("AROA");
        let role = Role {
            name: name.clone(),
            path: path.clone(),
            id,
            arn: role_arn(account, &path, &name),
            created: now,
            description: description.or(kind.description).map(str::to_string),
            max_session_duration: DEFAULT_MAX_SESSION_DURATION,
            trust_policy,
            inline_policies: BTreeMap::new(),
            attached_policies: kind
                .policy_arn
                .filter(|arn| aws_managed::find(arn).is_some())
                .map(|arn| vec![arn.to_string()])
                .unwrap_or_default(),
            permissions_boundary: None,
        };
        Ok(self.roles.entry(name).or_insert(role))
    }
}
