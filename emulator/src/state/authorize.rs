//! Where the world asks the policy engine: every request, and every call a service makes as a
//! principal, is decided here by `wana-policy` against the policies the world holds, and every
//! decision is recorded in the authorization log (`crate::authz`).

use chrono::{DateTime, Utc};
use wana_policy::{Decision, PrincipalInfo, RequestContext};

use super::{
    layers::{Gathering, ResourceSide},
    World,
};
use crate::authz::{via_service, with_request_keys, AuthzRecord, AuthzRequest, RequestFacts};

impl World {
    /// Asks, as an AWS service principal (`events.amazonaws.com`), a question that only a
    /// resource policy can answer: a role's trust policy when the service assumes the role. A
    /// service principal has no identity policies; the decision is logged like any other.
    pub fn authorize_service(
        &mut self,
        service: &str,
        now: DateTime<Utc>,
        region: &str,
        request: &AuthzRequest<'_>,
    ) -> Decision {
        let info = PrincipalInfo { account: String::new(), arns: Vec::new(), service: Some(service.to_string()), is_root: false };
        let context = with_request_keys(
            RequestContext::new(info, request.action, request.resource)
                .with_key("aws:CurrentTime", now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
                .with_key("aws:EpochTime", now.timestamp().to_string())
                .with_key("aws:SecureTransport", "true")
                .with_key("aws:RequestedRegion", region),
            request,
        );
        let policies = self.service_request_policies(request.action, request.resource_account);
        let decision = policies.evaluate(&context, resource_side(request));
        self.record(service.to_string(), Some(service), via_service(&request.context), request, &decision);
        self.authz_log.consulted_latest(consulted(&policies, request));
        decision
    }

    /// Records a decision a service's model made by a documented rule rather than by a policy
    /// (a recover alarm action needs no permissions), so that the log shows every step.
    pub fn record_rule(&mut self, acting_service: &str, action: &str, resource: &str, rule: &str) {
        self.authz_log.push(AuthzRecord {
            caller_arn: acting_service.to_string(),
            action: action.to_string(),
            resource: resource.to_string(),
            allowed: true,
            explanation: rule.to_string(),
            via_service: None,
            acting_service: Some(acting_service.to_string()),
            consulted: vec![crate::authz::ConsultedPolicy::rule(rule)],
            deciding: None,
        });
    }

    /// Records a refusal a service's model made by a documented rule rather than by a policy
    /// (SSM accepts a node's registration only from the node itself), so that the log shows
    /// every refused step with who was refused.
    pub fn record_rule_refusal(&mut self, caller_arn: &str, action: &str, resource: &str, rule: &str) {
        tracing::debug!(caller = caller_arn, action, resource, rule, "refused by a service rule");
        self.authz_log.push(AuthzRecord {
            caller_arn: caller_arn.to_string(),
            action: action.to_string(),
            resource: resource.to_string(),
            allowed: false,
            explanation: rule.to_string(),
            via_service: None,
            acting_service: None,
            consulted: vec![crate::authz::ConsultedPolicy::rule(rule)],
            deciding: None,
        });
    }

    /// Records a call refused before authorization because its credentials did not authenticate
    /// (a stored temporary key without its session token): denied, with the reason.
    pub fn record_authentication_failure(&mut self, who: &str, action: &str, reason: &str) {
        tracing::debug!(caller = who, action, reason, "authentication failed");
        self.authz_log.push(AuthzRecord {
            caller_arn: who.to_string(),
            action: action.to_string(),
            resource: "*".to_string(),
            allowed: false,
            explanation: format!("not authenticated: {reason}"),
            via_service: None,
            acting_service: None,
            consulted: vec![crate::authz::ConsultedPolicy::authentication(reason)],
            deciding: None,
        });
    }

    fn record(
        &mut self,
        caller_arn: String,
        acting_service: Option<&str>,
        via_service: Option<String>,
        request: &AuthzRequest<'_>,
        decision: &Decision,
    ) {
        tracing::debug!(
            caller = %caller_arn,
            acting = acting_service.unwrap_or("-"),
            action = request.action,
            resource = request.resource,
            decision = %decision.explain(),
            "authorization"
        );
        self.authz_log.push(AuthzRecord {
            caller_arn,
            action: request.action.to_string(),
            resource: request.resource.to_string(),
            allowed: decision.is_allowed(),
            explanation: decision.explain(),
            via_service,
            acting_service: acting_service.map(str::to_string),
            consulted: Vec::new(),
            deciding: crate::authz::DecidingStatement::of(decision),
        });
    }

    /// Decides one authorization question and records the decision.
    pub fn authorize(&mut self, facts: RequestFacts<'_>, request: &AuthzRequest<'_>) -> Decision {
        let caller = facts.caller;
        let principal = &caller.principal;
        let mut context = RequestContext::new(principal.policy_info(), request.action, request.resource)
            .with_key("aws:userid", principal.user_id())
            .with_key("aws:PrincipalArn", principal.entity_arn())
            .with_key("aws:PrincipalAccount", principal.account())
            .with_key("aws:PrincipalType", principal.principal_type())
            .with_key("aws:SourceIp", caller.source_ip.to_string())
            .with_key("aws:CurrentTime", facts.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .with_key("aws:EpochTime", facts.now.timestamp().to_string())
            .with_key("aws:SecureTransport", "false")
            .with_key("aws:RequestedRegion", facts.region);
        if let crate::principal::Principal::User { name, .. } = principal {
            context = context.with_key("aws:username", name.clone());
        }
        if let Some(service) = &caller.via_service {
            context = context.with_key("aws:ViaAWSService", "true");
            if crate::principal::CALLED_VIA_SERVICES.contains(&service.as_str()) {
                context = context
                    .with_multi("aws:CalledVia", vec![service.clone()])
                    .with_key("aws:CalledViaFirst", service.clone())
                    .with_key("aws:CalledViaLast", service.clone());
            }
        } else {
            context = context.with_key("aws:ViaAWSService", "false");
        }
        // Instance credentials carry the instance they were delivered to (EC2 user guide, "IAM
        // roles for Amazon EC2": `ec2:SourceInstanceARN`).
        if let Some(source) = self.source_instance_arn(caller) {
            context = context.with_key("ec2:SourceInstanceARN", source.to_string());
        }
        if let Some(issued) = caller.token_issued {
            context = context.with_key(
                "aws:TokenIssueTime",
                issued.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            );
        }
        let resource_account = request.resource_account.unwrap_or(principal.account());
        for (key, value) in self.organization_keys(principal.account(), resource_account) {
            context = context.with_key(key, value);
        }
        let context = with_request_keys(context, request);
        let mut policies = self.request_policies(Gathering {
            principal,
            access_key_id: Some(&caller.access_key_id),
            action: request.action,
            resource_account: request.resource_account,
        });
        // A change of the identity policies still propagating: the previous ones decide.
        let unpropagated = self.unpropagated_identity(principal, facts.now);
        if let Some((previous, _)) = &unpropagated {
            policies.identity.clone_from(previous);
        }
        let decision = policies.evaluate(&context, resource_side(request));
        // A forward-access call went via the acting service even where no condition key says so.
        let via = via_service(&request.context).or_else(|| caller.via_service.clone());
        self.record(principal.arn(), caller.via_service.as_deref(), via, request, &decision);
        self.authz_log.consulted_latest(consulted(&policies, request));
        if let Some((_, until)) = unpropagated {
            self.authz_log.note_latest(&super::propagation::not_propagated_note(&principal.arn(), until));
        }
        decision
    }
}

/// The resource's side of an authorization question.
fn resource_side<'a>(request: &AuthzRequest<'a>) -> ResourceSide<'a> {
    ResourceSide {
        policy: request.resource_policy,
        account: request.resource_account,
        authoritative: request.resource_policy_is_authoritative,
    }
}

/// What a decision consulted, for the log: the identity policies and the resource's own policy
/// (`crate::authz::consulted_policies`), then the permissions boundary, the session policies and
/// the organization's SCPs and RCPs where the request met them.
fn consulted(policies: &super::layers::RequestPolicies, request: &AuthzRequest<'_>) -> Vec<crate::authz::ConsultedPolicy> {
    use crate::authz::{ConsultedKind, ConsultedPolicy};
    let mut consulted = crate::authz::consulted_policies(&policies.identity, request);
    let named = |kind, name: &str| ConsultedPolicy { kind, name: name.to_string() };
    consulted.extend(policies.boundary.iter().map(|p| named(ConsultedKind::PermissionsBoundary, &p.name)));
    consulted.extend(policies.session.iter().map(|p| named(ConsultedKind::SessionPolicy, &p.name)));
    let organization = &policies.organization;
    for (kind, levels) in [
        (ConsultedKind::ServiceControlPolicy, &organization.scp_levels),
        (ConsultedKind::ResourceControlPolicy, &organization.rcp_levels),
    ] {
        for level in levels.iter().flatten() {
            consulted.extend(level.policies.iter().map(|p| named(kind, &format!("{} (attached to {})", p.name, level.target))));
        }
    }
    consulted
}
