//! The per-type code: how each resource type is created, updated in place and deleted, by
//! calling the other services' handlers as the stack caller. [`Engine::call`] is the one place
//! that calls `crate::services::handle`.

use super::{
    catalog::{type_spec, validate_properties},
    engine::{Created, Engine, Failure},
    inputs::{
        alarm_input, document, inline_policies, instance_input, member, next_marker, policy_entities, policy_targets,
        strings, tag_pairs, tags,
    },
    reasons::failure_reason,
    uuid, StackResource,
};
use crate::{
    port::{Acting, InnerCall},
    protocol::ServiceId,
    template::Node,
    value::Value,
};

impl Engine<'_> {
    /// Calls another service for the stack's caller, through the port: CloudFormation uses the
    /// caller's identity in a forward access session (`aws:CalledVia` =
    /// `cloudformation.amazonaws.com`), and the target service authorizes it as for that caller.
    /// An error becomes the resource's status reason (see [`failure_reason`]).
    fn call(&mut self, service: ServiceId, action: &str, params: Value) -> Result<Value, CallError> {
        let call = InnerCall {
            acting: Acting::ForwardAccess { caller: self.caller.clone(), service: CLOUDFORMATION_SERVICE.to_string() },
            service,
            region: &self.region,
            now: self.now,
            action,
            params,
        };
        self.world.inner_call(call).map_err(|error| {
            let request_id = self.world.ids.request_id();
            let token = uuid(self.world);
            let reason = failure_reason(self.world.profile, service, action, &error, &request_id, &token);
            CallError { code: error.code.to_string(), reason }
        })
    }

    /// A name for a resource the template does not name: `<stack>-<logical id>-<13 characters>`,
    /// shortened to `max` characters the way AWS shortens them (stack name first).
    fn generated_name(&mut self, logical_id: &str, max: usize) -> String {
        let suffix = self.world.ids.prefixed("CFN", 13)[3..].to_string();
        let budget = max.saturating_sub(suffix.len() + 2);
        let stack: String = self.stack.name.clone();
        let (mut stack_part, mut logical_part) = (stack.as_str(), logical_id);
        if stack_part.len() + logical_part.len() > budget {
            let keep_stack = budget.saturating_sub(logical_part.len()).max(budget / 2).min(stack_part.len());
            stack_part = &stack_part[..keep_stack];
            let keep_logical = budget.saturating_sub(stack_part.len()).min(logical_part.len());
            logical_part = &logical_part[..keep_logical];
        }
        format!("{stack_part}-{logical_part}-{suffix}")
    }

    pub(super) fn provision(&mut self, logical_id: &str, type_name: &str, properties: &Node) -> Result<Created, Failure> {
        let spec =
            type_spec(type_name).ok_or_else(|| Failure::new(format!("wana does not emulate {type_name} yet")))?;
        validate_properties(spec, logical_id, properties)?;
        match type_name {
            "AWS::EC2::Instance" => self.create_instance(logical_id, properties),
            "AWS::CloudWatch::Alarm" => self.create_alarm(logical_id, properties),
            "AWS::IAM::Role" => self.create_role(logical_id, properties),
            "AWS::IAM::InstanceProfile" => self.create_instance_profile(logical_id, properties),
            "AWS::IAM::Policy" => self.create_policy(logical_id, properties),
            _ => Err(Failure::new(format!("wana does not emulate {type_name} yet"))),
        }
    }

    /// Updates a resource in place; answers new attributes when they change.
    pub(super) fn reprovision(
        &mut self,
        current: &StackResource,
        properties: &Node,
    ) -> Result<Option<Vec<(String, Node)>>, String> {
        let spec =
            type_spec(&current.type_name).ok_or_else(|| format!("wana does not emulate {} yet", current.type_name))?;
        validate_properties(spec, &current.logical_id, properties).map_err(|f| f.reason)?;
        let physical_id = current.physical_id.clone().unwrap_or_default();
        match current.type_name.as_str() {
            "AWS::CloudWatch::Alarm" => {
                let input = alarm_input(&current.logical_id, &physical_id, properties).map_err(|f| f.reason)?;
                self.call(ServiceId::CloudWatch, "PutMetricAlarm", input).map(|_| None).map_err(|e| e.reason)
            }
            "AWS::IAM::Role" => self.update_role(&physical_id, &current.properties, properties).map(|_| None),
            "AWS::IAM::InstanceProfile" => {
                let old_roles = strings(current.properties.get("Roles"));
                let new_roles = strings(properties.get("Roles"));
                for role in old_roles.iter().filter(|r| !new_roles.contains(r)) {
                    let input = Value::structure()
                        .with("InstanceProfileName", physical_id.as_str())
                        .with("RoleName", role.as_str());
                    self.call(ServiceId::Iam, "RemoveRoleFromInstanceProfile", input).map_err(|e| e.reason)?;
                }
                for role in new_roles.iter().filter(|r| !old_roles.contains(r)) {
                    let input = Value::structure()
                        .with("InstanceProfileName", physical_id.as_str())
                        .with("RoleName", role.as_str());
                    self.call(ServiceId::Iam, "AddRoleToInstanceProfile", input).map_err(|e| e.reason)?;
                }
                Ok(None)
            }
            "AWS::IAM::Policy" => {
                policy_targets(&current.logical_id, properties).map_err(|f| f.reason)?;
                self.remove_policy(&current.properties, Some(properties))?;
                self.put_policy(properties).map(|_| None).map_err(|f| f.reason)
            }
            other => Err(format!("wana cannot update {other} in place")),
        }
    }

    pub(super) fn deprovision(&mut self, resource: &StackResource) -> Result<(), String> {
        let physical_id = resource.physical_id.clone().unwrap_or_default();
        let gone = |e: &CallError| {
            e.code == "NoSuchEntity"
                || e.code.ends_with(".NotFound")
                || e.code == "ResourceNotFound"
                || e.code == "NotFound"
        };
        let result = match resource.type_name.as_str() {
            "AWS::EC2::Instance" => {
                let input = Value::structure().with("InstanceId", Value::List(vec![physical_id.as_str().into()]));
                self.call(ServiceId::Ec2, "TerminateInstances", input).map(|_| ())
            }
            "AWS::CloudWatch::Alarm" => {
                let input = Value::structure().with("AlarmNames", Value::List(vec![physical_id.as_str().into()]));
                self.call(ServiceId::CloudWatch, "DeleteAlarms", input).map(|_| ())
            }
            "AWS::IAM::Role" => return self.delete_role(&physical_id),
            "AWS::IAM::InstanceProfile" => {
                for role in strings(resource.properties.get("Roles")) {
                    let input =
                        Value::structure().with("InstanceProfileName", physical_id.as_str()).with("RoleName", role);
                    match self.call(ServiceId::Iam, "RemoveRoleFromInstanceProfile", input) {
                        Err(e) if !gone(&e) => return Err(e.reason),
                        _ => {}
                    }
                }
                let input = Value::structure().with("InstanceProfileName", physical_id.as_str());
                self.call(ServiceId::Iam, "DeleteInstanceProfile", input).map(|_| ())
            }
            "AWS::IAM::Policy" => return self.remove_policy(&resource.properties, None),
            other => return Err(format!("wana cannot delete {other}")),
        };
        match result {
            Err(e) if !gone(&e) => Err(e.reason),
            _ => Ok(()),
        }
    }

    // -----------------------------------------------------------------------------------------
    // AWS::EC2::Instance

    fn create_instance(&mut self, logical_id: &str, properties: &Node) -> Result<Created, Failure> {
        let input = instance_input(logical_id, properties)?;
        let output = self.call(ServiceId::Ec2, "RunInstances", input).map_err(|e| Failure::new(e.reason))?;
        let instance = member(&output, &["instancesSet", "Instances"])
            .and_then(|l| l.as_list().first())
            .cloned()
            .ok_or_else(|| Failure::new("wana: RunInstances answered no instance"))?;
        let text = |names: &[&str]| member(&instance, names).and_then(Value::as_str).unwrap_or_default().to_string();
        let id = text(&["instanceId", "InstanceId"]);
        let zone = member(&instance, &["placement", "Placement"])
            .and_then(|p| member(p, &["availabilityZone", "AvailabilityZone"]))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let attributes = vec![
            ("AvailabilityZone".to_string(), Node::Str(zone)),
            ("InstanceId".to_string(), Node::Str(id.clone())),
            ("PrivateDnsName".to_string(), Node::Str(text(&["privateDnsName", "PrivateDnsName"]))),
            ("PrivateIp".to_string(), Node::Str(text(&["privateIpAddress", "PrivateIpAddress"]))),
            ("PublicDnsName".to_string(), Node::Str(text(&["dnsName", "PublicDnsName"]))),
            ("PublicIp".to_string(), Node::Str(text(&["ipAddress", "PublicIpAddress"]))),
        ];
        Ok(Created { physical_id: id, attributes })
    }

    // -----------------------------------------------------------------------------------------
    // AWS::CloudWatch::Alarm

    fn create_alarm(&mut self, logical_id: &str, properties: &Node) -> Result<Created, Failure> {
        let name = match properties.get("AlarmName").and_then(Node::text) {
            Some(name) => name,
            None => self.generated_name(logical_id, 255),
        };
        let input = alarm_input(logical_id, &name, properties)?;
        self.call(ServiceId::CloudWatch, "PutMetricAlarm", input).map_err(|e| Failure::new(e.reason))?;
        let arn = format!("arn:aws:cloudwatch:{}:{}:alarm:{name}", self.region, self.account);
        Ok(Created { physical_id: name, attributes: vec![("Arn".to_string(), Node::Str(arn))] })
    }

    // -----------------------------------------------------------------------------------------
    // AWS::IAM::Role

    fn create_role(&mut self, logical_id: &str, properties: &Node) -> Result<Created, Failure> {
        let name = match properties.get("RoleName").and_then(Node::text) {
            Some(name) => name,
            None => self.generated_name(logical_id, 64),
        };
        let mut input = Value::structure()
            .with("RoleName", name.as_str())
            .with("AssumeRolePolicyDocument", document(properties.get("AssumeRolePolicyDocument")));
        for member in ["Path", "Description", "MaxSessionDuration", "PermissionsBoundary"] {
            if let Some(text) = properties.get(member).and_then(Node::text) {
                input.push(member, text);
            }
        }
        if let Some(tags) = tags(properties) {
            input.push("Tags", tags);
        }
        let output = self.call(ServiceId::Iam, "CreateRole", input).map_err(|e| Failure::new(e.reason))?;
        let role = output.get("Role");
        let text = |m: &str| role.and_then(|r| r.get(m)).and_then(Value::as_str).unwrap_or_default().to_string();
        let attributes =
            vec![("Arn".to_string(), Node::Str(text("Arn"))), ("RoleId".to_string(), Node::Str(text("RoleId")))];
        for (policy_name, document) in inline_policies(properties.get("Policies")) {
            let input = Value::structure()
                .with("RoleName", name.as_str())
                .with("PolicyName", policy_name)
                .with("PolicyDocument", document);
            self.call(ServiceId::Iam, "PutRolePolicy", input).map_err(|e| Failure::new(e.reason).leaving(&name))?;
        }
        for arn in strings(properties.get("ManagedPolicyArns")) {
            let input = Value::structure().with("RoleName", name.as_str()).with("PolicyArn", arn);
            self.call(ServiceId::Iam, "AttachRolePolicy", input).map_err(|e| Failure::new(e.reason).leaving(&name))?;
        }
        Ok(Created { physical_id: name, attributes })
    }

    fn update_role(&mut self, name: &str, old: &Node, new: &Node) -> Result<(), String> {
        let role = |input: Value| input.with("RoleName", name);
        if old.get("AssumeRolePolicyDocument") != new.get("AssumeRolePolicyDocument") {
            let input = role(Value::structure()).with("PolicyDocument", document(new.get("AssumeRolePolicyDocument")));
            self.call(ServiceId::Iam, "UpdateAssumeRolePolicy", input).map_err(|e| e.reason)?;
        }
        if old.get("Description") != new.get("Description")
            || old.get("MaxSessionDuration") != new.get("MaxSessionDuration")
        {
            let mut input = role(Value::structure());
            input.push("Description", new.get("Description").and_then(Node::text).unwrap_or_default());
            if let Some(duration) = new.get("MaxSessionDuration").and_then(Node::text) {
                input.push("MaxSessionDuration", duration);
            }
            self.call(ServiceId::Iam, "UpdateRole", input).map_err(|e| e.reason)?;
        }
        let old_policies = inline_policies(old.get("Policies"));
        let new_policies = inline_policies(new.get("Policies"));
        for (policy_name, _) in old_policies.iter().filter(|(n, _)| !new_policies.iter().any(|(m, _)| m == n)) {
            let input = role(Value::structure()).with("PolicyName", policy_name.as_str());
            self.call(ServiceId::Iam, "DeleteRolePolicy", input).map_err(|e| e.reason)?;
        }
        for (policy_name, doc) in new_policies.iter().filter(|p| !old_policies.contains(p)) {
            let input =
                role(Value::structure()).with("PolicyName", policy_name.as_str()).with("PolicyDocument", doc.as_str());
            self.call(ServiceId::Iam, "PutRolePolicy", input).map_err(|e| e.reason)?;
        }
        let old_arns = strings(old.get("ManagedPolicyArns"));
        let new_arns = strings(new.get("ManagedPolicyArns"));
        for arn in old_arns.iter().filter(|a| !new_arns.contains(a)) {
            let input = role(Value::structure()).with("PolicyArn", arn.as_str());
            self.call(ServiceId::Iam, "DetachRolePolicy", input).map_err(|e| e.reason)?;
        }
        for arn in new_arns.iter().filter(|a| !old_arns.contains(a)) {
            let input = role(Value::structure()).with("PolicyArn", arn.as_str());
            self.call(ServiceId::Iam, "AttachRolePolicy", input).map_err(|e| e.reason)?;
        }
        if old.get("Tags") != new.get("Tags") {
            let old_tags = tag_pairs(old);
            let new_tags = tag_pairs(new);
            let removed: Vec<Value> = old_tags
                .iter()
                .filter(|(k, _)| !new_tags.iter().any(|(n, _)| n == k))
                .map(|(k, _)| Value::from(k.as_str()))
                .collect();
            if !removed.is_empty() {
                let input = role(Value::structure()).with("TagKeys", Value::List(removed));
                self.call(ServiceId::Iam, "UntagRole", input).map_err(|e| e.reason)?;
            }
            if let Some(tags) = tags(new) {
                let input = role(Value::structure()).with("Tags", tags);
                self.call(ServiceId::Iam, "TagRole", input).map_err(|e| e.reason)?;
            }
        }
        if old.get("PermissionsBoundary") != new.get("PermissionsBoundary") {
            let input = match new.get("PermissionsBoundary").and_then(Node::text) {
                Some(arn) => ("PutRolePermissionsBoundary", role(Value::structure()).with("PermissionsBoundary", arn)),
                None => ("DeleteRolePermissionsBoundary", role(Value::structure())),
            };
            self.call(ServiceId::Iam, input.0, input.1).map_err(|e| e.reason)?;
        }
        Ok(())
    }

    /// What AWS::IAM::Role's delete handler does: detach managed policies, delete inline
    /// policies (both listed with the caller's credentials), then delete the role.
    fn delete_role(&mut self, name: &str) -> Result<(), String> {
        let not_found = |e: &CallError| e.code == "NoSuchEntity";
        let mut marker: Option<String> = None;
        loop {
            let input = Value::structure().with("RoleName", name).with_opt("Marker", marker.take());
            let output = match self.call(ServiceId::Iam, "ListAttachedRolePolicies", input) {
                Ok(o) => o,
                Err(e) if not_found(&e) => return Ok(()),
                Err(e) => return Err(e.reason),
            };
            for policy in output.get("AttachedPolicies").map(Value::as_list).unwrap_or_default() {
                if let Some(arn) = policy.get("PolicyArn").and_then(Value::as_str) {
                    let input = Value::structure().with("RoleName", name).with("PolicyArn", arn);
                    self.call(ServiceId::Iam, "DetachRolePolicy", input).map_err(|e| e.reason)?;
                }
            }
            marker = next_marker(&output);
            if marker.is_none() {
                break;
            }
        }
        loop {
            let input = Value::structure().with("RoleName", name).with_opt("Marker", marker.take());
            let output = match self.call(ServiceId::Iam, "ListRolePolicies", input) {
                Ok(o) => o,
                Err(e) if not_found(&e) => return Ok(()),
                Err(e) => return Err(e.reason),
            };
            for policy_name in output.get("PolicyNames").map(Value::as_list).unwrap_or_default() {
                if let Some(policy_name) = policy_name.as_str() {
                    let input = Value::structure().with("RoleName", name).with("PolicyName", policy_name);
                    self.call(ServiceId::Iam, "DeleteRolePolicy", input).map_err(|e| e.reason)?;
                }
            }
            marker = next_marker(&output);
            if marker.is_none() {
                break;
            }
        }
        match self.call(ServiceId::Iam, "DeleteRole", Value::structure().with("RoleName", name)) {
            Err(e) if !not_found(&e) => Err(e.reason),
            _ => Ok(()),
        }
    }

    // -----------------------------------------------------------------------------------------
    // AWS::IAM::InstanceProfile

    fn create_instance_profile(&mut self, logical_id: &str, properties: &Node) -> Result<Created, Failure> {
        let name = match properties.get("InstanceProfileName").and_then(Node::text) {
            Some(name) => name,
            None => self.generated_name(logical_id, 128),
        };
        let mut input = Value::structure().with("InstanceProfileName", name.as_str());
        if let Some(path) = properties.get("Path").and_then(Node::text) {
            input.push("Path", path);
        }
        let output = self.call(ServiceId::Iam, "CreateInstanceProfile", input).map_err(|e| Failure::new(e.reason))?;
        let arn = output
            .get("InstanceProfile")
            .and_then(|p| p.get("Arn"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        for role in strings(properties.get("Roles")) {
            let input = Value::structure().with("InstanceProfileName", name.as_str()).with("RoleName", role);
            self.call(ServiceId::Iam, "AddRoleToInstanceProfile", input)
                .map_err(|e| Failure::new(e.reason).leaving(&name))?;
        }
        Ok(Created { physical_id: name, attributes: vec![("Arn".to_string(), Node::Str(arn))] })
    }

    // -----------------------------------------------------------------------------------------
    // AWS::IAM::Policy

    fn create_policy(&mut self, logical_id: &str, properties: &Node) -> Result<Created, Failure> {
        policy_targets(logical_id, properties)?;
        let id = self.generated_name(logical_id, 128);
        self.put_policy(properties).map_err(|f| f.leaving(&id))?;
        Ok(Created { physical_id: id.clone(), attributes: vec![("Id".to_string(), Node::Str(id))] })
    }

    fn put_policy(&mut self, properties: &Node) -> Result<(), Failure> {
        let policy_name = properties.get("PolicyName").and_then(Node::text).unwrap_or_default();
        let doc = document(properties.get("PolicyDocument"));
        for (member, action, entity) in policy_entities(properties) {
            let input = Value::structure()
                .with(member, entity)
                .with("PolicyName", policy_name.as_str())
                .with("PolicyDocument", doc.as_str());
            self.call(ServiceId::Iam, action, input).map_err(|e| Failure::new(e.reason))?;
        }
        Ok(())
    }

    /// Removes the inline policy from the entities of `old` that `new` no longer lists (all of
    /// them when `new` is absent or renames the policy).
    fn remove_policy(&mut self, old: &Node, new: Option<&Node>) -> Result<(), String> {
        let policy_name = old.get("PolicyName").and_then(Node::text).unwrap_or_default();
        let keep: Vec<(&'static str, String)> = match new {
            Some(new) if new.get("PolicyName").and_then(Node::text).as_deref() == Some(policy_name.as_str()) => {
                policy_entities(new).into_iter().map(|(m, _, e)| (m, e)).collect()
            }
            _ => Vec::new(),
        };
        for (member, _, entity) in policy_entities(old) {
            if keep.iter().any(|(m, e)| *m == member && *e == entity) {
                continue;
            }
            let action = match member {
                "RoleName" => "DeleteRolePolicy",
                "UserName" => "DeleteUserPolicy",
                _ => "DeleteGroupPolicy",
            };
            let input = Value::structure().with(member, entity).with("PolicyName", policy_name.as_str());
            match self.call(ServiceId::Iam, action, input) {
                Err(e) if e.code != "NoSuchEntity" => return Err(e.reason),
                _ => {}
            }
        }
        Ok(())
    }
}

/// CloudFormation's service principal.
const CLOUDFORMATION_SERVICE: &str = "cloudformation.amazonaws.com";

struct CallError {
    code: String,
    reason: String,
}
