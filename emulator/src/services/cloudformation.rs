//! CloudFormation over awsQuery: stack operations, their events and resources, templates.
//!
//! The handlers check what AWS checks synchronously (names, the template, parameters,
//! capabilities), record the stack in an `…_IN_PROGRESS` status and schedule the provisioning
//! (`crate::state::cloudformation`), which runs with the caller's credentials before the next
//! request. Every operation is authorized as `cloudformation:<Operation>` on the stack's ARN
//! (`…:stack/<name>/*` while the stack does not exist, `*` for account-wide reads).
//!
//! Not emulated, and said so in the error: service roles (`RoleARN`; CloudFormation always
//! acts as the caller here), `TemplateURL` (S3 is not emulated), change sets, stack sets,
//! transforms, nested stacks.

use std::sync::Arc;

use crate::{
    error::AwsError,
    state::{
        cloudformation::{
            self as cfn, dry_run, pseudo, required_capability, status, Capability, OnFailure, Operation, Pending,
            Provisioners, Stack, StackResource, State, UpdatePlan,
        },
        World,
    },
    template::{GivenParameter, Template},
    validation,
    value::Value,
};

use super::{missing_member, Call};

pub fn handle(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    Some(match call.action {
        "CreateStack" => create_stack(world, call),
        "UpdateStack" => update_stack(world, call),
        "DeleteStack" => delete_stack(world, call),
        "DescribeStacks" => describe_stacks(world, call),
        "DescribeStackEvents" => describe_stack_events(world, call),
        "DescribeStackResources" => describe_stack_resources(world, call),
        "DescribeStackResource" => describe_stack_resource(world, call),
        "ListStacks" => list_stacks(world, call),
        "ListStackResources" => list_stack_resources(world, call),
        "GetTemplate" => get_template(world, call),
        "ValidateTemplate" => validate_template(world, call),
        _ => return None,
    })
}

const STACK_NAME_PATTERN: &str = "[a-zA-Z][-a-zA-Z0-9]*";
const STACK_NAME_OR_ID_PATTERN: &str = "[a-zA-Z][-a-zA-Z0-9]*|arn:[-a-zA-Z0-9:/._+]*";
const CAPABILITIES: [&str; 3] = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"];
/// The statuses UpdateStack accepts.
const UPDATABLE: [&str; 5] = [
    status::CREATE_COMPLETE,
    status::UPDATE_COMPLETE,
    status::UPDATE_ROLLBACK_COMPLETE,
    status::CREATE_FAILED,
    status::UPDATE_FAILED,
];

fn constraint(value: &str, member: &str, rule: &str) -> AwsError {
    AwsError::validation(validation::one(member, Some(value), rule))
}

/// `StackName` of CreateStack: a new name, never an ARN.
fn new_stack_name<'a>(call: &Call<'a>) -> Result<&'a str, AwsError> {
    let name = call.required("StackName")?;
    if name.len() > 128 {
        return Err(constraint(name, "stackName", "Member must have length less than or equal to 128"));
    }
    let mut chars = name.chars();
    let valid =
        chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !valid {
        return Err(constraint(
            name,
            "stackName",
            &format!("Member must satisfy regular expression pattern: {STACK_NAME_PATTERN}"),
        ));
    }
    Ok(name)
}

/// `StackName` of the other operations: a name or a stack id.
fn stack_name_or_id<'a>(call: &Call<'a>) -> Result<&'a str, AwsError> {
    let name = call.required("StackName")?;
    check_name_or_id(name)?;
    Ok(name)
}

fn check_name_or_id(name: &str) -> Result<(), AwsError> {
    let is_arn = name.starts_with("arn:") && name.chars().all(|c| c.is_ascii_alphanumeric() || "-:/._+".contains(c));
    let mut chars = name.chars();
    let is_name =
        chars.next().is_some_and(|c| c.is_ascii_alphabetic()) && chars.all(|c| c.is_ascii_alphanumeric() || c == '-');
    if !(is_arn || is_name) {
        return Err(constraint(
            name,
            "stackName",
            &format!("Member must satisfy regular expression pattern: {STACK_NAME_OR_ID_PATTERN}"),
        ));
    }
    Ok(())
}

fn not_exist(name: &str) -> AwsError {
    AwsError::validation(format!("Stack with id {name} does not exist"))
}

/// The ARN a stack operation is authorized on.
fn stack_resource(call: &Call<'_>, state: Option<&State>, name_or_id: &str) -> String {
    if let Some(stack) = state.and_then(|s| s.find(name_or_id)) {
        return stack.id.clone();
    }
    if name_or_id.starts_with("arn:") {
        name_or_id.to_string()
    } else {
        format!("arn:aws:cloudformation:{}:{}:stack/{name_or_id}/*", call.region, call.account())
    }
}

fn state<'w>(world: &'w World, call: &Call<'_>) -> Option<&'w State> {
    world.regional(call.account(), call.region).map(|r| &r.cloudformation)
}

fn state_mut<'w>(world: &'w mut World, call: &Call<'_>) -> Result<&'w mut State, AwsError> {
    world
        .regional_mut(call.account(), call.region)
        .map(|r| &mut r.cloudformation)
        .ok_or_else(|| AwsError::internal("the caller's account does not exist"))
}

/// Authorizes `cloudformation:<action>` on a stack named or identified by `name_or_id`, then
/// answers a copy of the stack if it exists.
fn authorize_stack(
    world: &mut World,
    call: &Call<'_>,
    action: &str,
    name_or_id: &str,
) -> Result<Option<Stack>, AwsError> {
    let resource = stack_resource(call, state(world, call), name_or_id);
    call.authorize_identity(world, action, &resource)?;
    Ok(state(world, call).and_then(|s| s.find(name_or_id)).cloned())
}

fn no_service_role(call: &Call<'_>) -> Result<(), AwsError> {
    if call.optional("RoleARN").is_some_and(|r| !r.is_empty()) {
        return Err(AwsError::validation(
            "wana: service roles (RoleARN) are not emulated; CloudFormation acts with the caller's credentials",
        ));
    }
    Ok(())
}

/// `TemplateBody`, or the reason there is none to read.
fn template_body(call: &Call<'_>) -> Result<String, AwsError> {
    match (call.optional("TemplateBody"), call.optional("TemplateURL")) {
        (Some(_), Some(_)) => Err(AwsError::validation("Specify exactly one of TemplateBody or TemplateUrl.")),
        (Some(body), None) if !body.trim().is_empty() => Ok(body.to_string()),
        (None, Some(_)) => Err(AwsError::validation(
            "wana: TemplateURL is not supported (S3 is not emulated); pass the template in TemplateBody",
        )),
        _ => Err(AwsError::validation("Either Template URL or Template Body must be specified.")),
    }
}

fn parse_template(body: &str) -> Result<Template, AwsError> {
    let template = Template::parse(body)?;
    template.check(&Provisioners)?;
    Ok(template)
}

fn given_parameters(call: &Call<'_>) -> Result<Vec<GivenParameter>, AwsError> {
    let mut out = Vec::new();
    for (i, item) in call.params.get("Parameters").map(Value::as_list).unwrap_or_default().iter().enumerate() {
        let key = item
            .get("ParameterKey")
            .and_then(Value::as_str)
            .ok_or_else(|| missing_member(&format!("Parameters.{}.member.ParameterKey", i + 1)))?;
        out.push(GivenParameter {
            key: key.to_string(),
            value: item.get("ParameterValue").and_then(Value::as_str).map(str::to_string),
            use_previous: item.get("UsePreviousValue").and_then(Value::as_bool).unwrap_or(false),
        });
    }
    Ok(out)
}

fn string_list(call: &Call<'_>, member: &str) -> Vec<String> {
    call.params
        .get(member)
        .map(Value::as_list)
        .unwrap_or_default()
        .iter()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

fn tags_param(call: &Call<'_>) -> Result<Vec<(String, String)>, AwsError> {
    let mut tags = Vec::new();
    for (i, item) in call.params.get("Tags").map(Value::as_list).unwrap_or_default().iter().enumerate() {
        let key = item
            .get("Key")
            .and_then(Value::as_str)
            .ok_or_else(|| missing_member(&format!("tags.{}.member.key", i + 1)))?;
        let value = item
            .get("Value")
            .and_then(Value::as_str)
            .ok_or_else(|| missing_member(&format!("tags.{}.member.value", i + 1)))?;
        tags.push((key.to_string(), value.to_string()));
    }
    Ok(tags)
}

fn capabilities_param(call: &Call<'_>) -> Result<Vec<String>, AwsError> {
    let capabilities = string_list(call, "Capabilities");
    if capabilities.iter().any(|c| !CAPABILITIES.contains(&c.as_str())) {
        return Err(constraint(
            &format!("[{}]", capabilities.join(", ")),
            "capabilities",
            "Member must satisfy constraint: [Member must satisfy enum value set: [CAPABILITY_AUTO_EXPAND, CAPABILITY_NAMED_IAM, CAPABILITY_IAM]]",
        ));
    }
    Ok(capabilities)
}

/// IAM resources need `CAPABILITY_IAM`, named ones `CAPABILITY_NAMED_IAM` (which covers both).
fn check_capabilities(template: &Template, given: &[String]) -> Result<(), AwsError> {
    let Some((needed, _)) = required_capability(template) else { return Ok(()) };
    let has = |c: Capability| given.iter().any(|g| g == c.as_str());
    if has(Capability::NamedIam) || (needed == Capability::Iam && has(Capability::Iam)) {
        return Ok(());
    }
    Err(AwsError::new(
        "InsufficientCapabilitiesException",
        400,
        format!("Requires capabilities : [{}]", needed.as_str()),
    ))
}

fn on_failure_param(call: &Call<'_>) -> Result<OnFailure, AwsError> {
    let disable_rollback = call.params.get("DisableRollback").and_then(Value::as_bool);
    match (call.optional("OnFailure"), disable_rollback) {
        (Some(_), Some(_)) => {
            Err(AwsError::validation("Either DisableRollback or OnFailure can be specified, not both."))
        }
        (Some("DO_NOTHING"), None) => Ok(OnFailure::DoNothing),
        (Some("ROLLBACK"), None) => Ok(OnFailure::Rollback),
        (Some("DELETE"), None) => Ok(OnFailure::Delete),
        (Some(other), None) => {
            Err(constraint(other, "onFailure", "Member must satisfy enum value set: [DO_NOTHING, ROLLBACK, DELETE]"))
        }
        (None, Some(true)) => Ok(OnFailure::DoNothing),
        (None, _) => Ok(OnFailure::Rollback),
    }
}

fn schedule_run(world: &mut World, call: &Call<'_>, stack_id: &str) {
    world.schedule(
        call.now,
        call.account(),
        call.region,
        cfn::Event::Run { stack_id: stack_id.to_string() },
    );
}

// ---------------------------------------------------------------------------------------------
// Operations

fn create_stack(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = new_stack_name(call)?;
    let resource = format!("arn:aws:cloudformation:{}:{}:stack/{name}/*", call.region, call.account());
    call.authorize_identity(world, "cloudformation:CreateStack", &resource)?;
    no_service_role(call)?;
    if state(world, call).and_then(|s| s.find(name)).is_some() {
        return Err(AwsError::new("AlreadyExistsException", 400, format!("Stack [{name}] already exists")));
    }
    let on_failure = on_failure_param(call)?;
    let body = template_body(call)?;
    let template = parse_template(&body)?;
    let parameters = template.resolve_parameters(&given_parameters(call)?, &[])?;
    let capabilities = capabilities_param(call)?;
    check_capabilities(&template, &capabilities)?;
    let tags = tags_param(call)?;
    let notification_arns = string_list(call, "NotificationARNs");

    let stack_id =
        format!("arn:aws:cloudformation:{}:{}:stack/{name}/{}", call.region, call.account(), cfn::uuid(world));
    dry_run(&template, &pseudo(&stack_id, name, call.account(), call.region, &notification_arns), &parameters)?;

    let mut stack = Stack {
        id: stack_id.clone(),
        name: name.to_string(),
        template: Arc::new(template),
        parameters,
        capabilities,
        tags,
        notification_arns,
        timeout_minutes: call.optional_i64("TimeoutInMinutes")?,
        on_failure,
        termination_protection: call
            .params
            .get("EnableTerminationProtection")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        status: status::CREATE_IN_PROGRESS,
        status_reason: None,
        created: call.now,
        last_updated: None,
        deleted: None,
        resources: Vec::new(),
        outputs: Vec::new(),
        events: Vec::new(),
        pending: Some(Pending { caller: call.caller.clone(), operation: Operation::Create }),
    };
    let event_id = cfn::uuid(world);
    stack.stack_event(event_id, call.now, status::CREATE_IN_PROGRESS, Some("User Initiated".into()));
    state_mut(world, call)?.stacks.push(stack);
    schedule_run(world, call, &stack_id);
    Ok(Value::structure().with("StackId", stack_id))
}

fn update_stack(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = stack_name_or_id(call)?;
    let stack = authorize_stack(world, call, "cloudformation:UpdateStack", name)?
        .filter(|s| s.deleted.is_none())
        .ok_or_else(|| not_exist(name))?;
    no_service_role(call)?;
    if !UPDATABLE.contains(&stack.status) {
        return Err(AwsError::validation(format!(
            "Stack:{} is in {} state and can not be updated.",
            stack.id, stack.status
        )));
    }
    let use_previous = call.params.get("UsePreviousTemplate").and_then(Value::as_bool).unwrap_or(false);
    let body = if use_previous {
        if call.optional("TemplateBody").is_some() || call.optional("TemplateURL").is_some() {
            return Err(AwsError::validation(
                "You cannot specify both usePreviousTemplate and Template Body/Template Url.",
            ));
        }
        stack.template.body.clone()
    } else {
        template_body(call)?
    };
    let template = parse_template(&body)?;
    let previous: Vec<(String, String)> = stack.parameters.iter().map(|p| (p.key.clone(), p.value.clone())).collect();
    let parameters = template.resolve_parameters(&given_parameters(call)?, &previous)?;
    let retyped: Vec<String> = template
        .resources
        .iter()
        .filter(|r| {
            stack.resource(&r.logical_id).is_some_and(|s| s.type_name != r.type_name && s.physical_id.is_some())
        })
        .map(|r| r.logical_id.clone())
        .collect();
    if !retyped.is_empty() {
        return Err(AwsError::validation(format!(
            "Update of resource type is not permitted. The new template modifies resource type of the following resources: [{}]",
            retyped.join(", ")
        )));
    }
    let capabilities = capabilities_param(call)?;
    check_capabilities(&template, &capabilities)?;
    let tags = if call.params.get("Tags").is_some() { tags_param(call)? } else { stack.tags.clone() };
    let notification_arns = if call.params.get("NotificationARNs").is_some() {
        string_list(call, "NotificationARNs")
    } else {
        stack.notification_arns.clone()
    };
    let unchanged = template.body == stack.template.body
        && parameters.iter().map(|p| (&p.key, &p.value)).eq(stack.parameters.iter().map(|p| (&p.key, &p.value)))
        && tags == stack.tags;
    if unchanged {
        return Err(AwsError::validation("No updates are to be performed."));
    }
    dry_run(&template, &pseudo(&stack.id, &stack.name, call.account(), call.region, &notification_arns), &parameters)?;

    let plan = UpdatePlan {
        template: Arc::new(template),
        parameters,
        capabilities,
        tags,
        notification_arns,
        disable_rollback: call.params.get("DisableRollback").and_then(Value::as_bool).unwrap_or(false),
    };
    let event_id = cfn::uuid(world);
    let stack_id = stack.id.clone();
    let stored = state_mut(world, call)?.find_mut(&stack_id).ok_or_else(|| not_exist(name))?;
    stored.last_updated = Some(call.now);
    stored.stack_event(event_id, call.now, status::UPDATE_IN_PROGRESS, Some("User Initiated".into()));
    stored.pending = Some(Pending { caller: call.caller.clone(), operation: Operation::Update(Box::new(plan)) });
    schedule_run(world, call, &stack_id);
    Ok(Value::structure().with("StackId", stack_id))
}

/// Deleting a stack that does not exist succeeds, as in AWS.
fn delete_stack(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = stack_name_or_id(call)?;
    let Some(stack) = authorize_stack(world, call, "cloudformation:DeleteStack", name)? else {
        return Ok(Value::structure());
    };
    no_service_role(call)?;
    if stack.deleted.is_some() || stack.status == status::DELETE_IN_PROGRESS {
        return Ok(Value::structure());
    }
    if stack.termination_protection {
        return Err(AwsError::validation(format!(
            "Stack [{}] cannot be deleted while TerminationProtection is enabled",
            stack.name
        )));
    }
    if stack.is_in_progress() {
        return Err(AwsError::validation(format!(
            "Stack [{}] cannot be deleted while in status {}",
            stack.name, stack.status
        )));
    }
    let retain = string_list(call, "RetainResources");
    if !retain.is_empty() && stack.status != status::DELETE_FAILED {
        return Err(AwsError::validation(
            "Invalid operation on stack. RetainResources can only be specified when the stack is in the DELETE_FAILED state",
        ));
    }
    let event_id = cfn::uuid(world);
    let stored = state_mut(world, call)?.find_mut(&stack.id).ok_or_else(|| not_exist(name))?;
    stored.stack_event(event_id, call.now, status::DELETE_IN_PROGRESS, Some("User Initiated".into()));
    stored.pending = Some(Pending { caller: call.caller.clone(), operation: Operation::Delete { retain } });
    schedule_run(world, call, &stack.id);
    Ok(Value::structure())
}

/// How many stacks a page of DescribeStacks without a stack name holds: DescribeStacks takes no
/// page size, and accounts see 100 stacks a page (aws-nuke issue 240: "Only the first 100 CFN
/// stacks will be found"). The `NextToken` is the position to go on from; one that is not is a
/// `ValidationError` "Invalid NextToken" (text chosen, unconfirmed).
const DESCRIBE_STACKS_PAGE: usize = 100;

fn describe_stacks(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let stacks: Vec<Value> = match call.optional("StackName") {
        Some(name) => {
            check_name_or_id(name)?;
            let stack =
                authorize_stack(world, call, "cloudformation:DescribeStacks", name)?.ok_or_else(|| not_exist(name))?;
            vec![stack_value(&stack)]
        }
        None => {
            call.authorize_identity(world, "cloudformation:DescribeStacks", "*")?;
            let start = match call.optional("NextToken") {
                None => 0,
                Some(token) => token.parse::<usize>().map_err(|_| AwsError::validation("Invalid NextToken"))?,
            };
            let stacks: Vec<Value> = state(world, call)
                .map(|s| s.stacks.iter().rev().filter(|s| s.deleted.is_none()).map(stack_value).collect())
                .unwrap_or_default();
            let end = (start + DESCRIBE_STACKS_PAGE).min(stacks.len());
            let next = (end < stacks.len()).then(|| end.to_string());
            let page = stacks.into_iter().skip(start).take(end.saturating_sub(start)).collect();
            return Ok(Value::structure().with("Stacks", Value::List(page)).with_opt("NextToken", next));
        }
    };
    Ok(Value::structure().with("Stacks", Value::List(stacks)))
}

fn describe_stack_events(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = stack_name_or_id(call)?;
    let stack =
        authorize_stack(world, call, "cloudformation:DescribeStackEvents", name)?.ok_or_else(|| not_exist(name))?;
    let events: Vec<Value> = stack
        .events
        .iter()
        .rev()
        .map(|e| {
            Value::structure()
                .with("StackId", stack.id.as_str())
                .with("EventId", e.id.as_str())
                .with("StackName", stack.name.as_str())
                .with("LogicalResourceId", e.logical_id.as_str())
                .with_opt("PhysicalResourceId", e.physical_id.as_deref())
                .with("ResourceType", e.type_name.as_str())
                .with("Timestamp", e.timestamp)
                .with("ResourceStatus", e.status)
                .with_opt("ResourceStatusReason", e.reason.as_deref())
                .with_opt("ResourceProperties", e.properties.as_deref())
        })
        .collect();
    Ok(Value::structure().with("StackEvents", Value::List(events)))
}

fn describe_stack_resources(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let logical = call.optional("LogicalResourceId");
    let stack = match (call.optional("StackName"), call.optional("PhysicalResourceId")) {
        (Some(name), _) => {
            check_name_or_id(name)?;
            authorize_stack(world, call, "cloudformation:DescribeStackResources", name)?
                .ok_or_else(|| not_exist(name))?
        }
        (None, Some(physical)) => {
            let found = state(world, call)
                .and_then(|s| {
                    s.stacks.iter().find(|st| {
                        st.deleted.is_none() && st.resources.iter().any(|r| r.physical_id.as_deref() == Some(physical))
                    })
                })
                .cloned();
            let Some(stack) = found else {
                call.authorize_identity(world, "cloudformation:DescribeStackResources", "*")?;
                return Err(AwsError::validation(format!("Stack for {physical} does not exist")));
            };
            call.authorize_identity(world, "cloudformation:DescribeStackResources", &stack.id)?;
            stack
        }
        (None, None) => {
            return Err(AwsError::validation("Either StackName or PhysicalResourceId must be specified."));
        }
    };
    // A physical id names the stack: all of its resources are listed (AWS's way to find the
    // stack an instance belongs to and what else it holds).
    let resources: Vec<Value> = stack
        .resources
        .iter()
        .filter(|r| logical.is_none_or(|l| r.logical_id == l))
        .map(|r| {
            Value::structure()
                .with("StackName", stack.name.as_str())
                .with("StackId", stack.id.as_str())
                .with("LogicalResourceId", r.logical_id.as_str())
                .with_opt("PhysicalResourceId", r.physical_id.as_deref())
                .with("ResourceType", r.type_name.as_str())
                .with("Timestamp", r.updated)
                .with("ResourceStatus", r.status)
                .with_opt("ResourceStatusReason", r.status_reason.as_deref())
                .with("DriftInformation", Value::structure().with("StackResourceDriftStatus", "NOT_CHECKED"))
        })
        .collect();
    Ok(Value::structure().with("StackResources", Value::List(resources)))
}

fn describe_stack_resource(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = stack_name_or_id(call)?;
    let logical = call.required("LogicalResourceId")?;
    let stack =
        authorize_stack(world, call, "cloudformation:DescribeStackResource", name)?.ok_or_else(|| not_exist(name))?;
    let resource = stack
        .resource(logical)
        .ok_or_else(|| AwsError::validation(format!("Resource {logical} does not exist for stack {name}")))?;
    let detail = Value::structure()
        .with("StackName", stack.name.as_str())
        .with("StackId", stack.id.as_str())
        .with("LogicalResourceId", resource.logical_id.as_str())
        .with_opt("PhysicalResourceId", resource.physical_id.as_deref())
        .with("ResourceType", resource.type_name.as_str())
        .with("LastUpdatedTimestamp", resource.updated)
        .with("ResourceStatus", resource.status)
        .with_opt("ResourceStatusReason", resource.status_reason.as_deref())
        .with("DriftInformation", Value::structure().with("StackResourceDriftStatus", "NOT_CHECKED"));
    Ok(Value::structure().with("StackResourceDetail", detail))
}

fn list_stacks(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    call.authorize_identity(world, "cloudformation:ListStacks", "*")?;
    let filter = string_list(call, "StackStatusFilter");
    let summaries: Vec<Value> = state(world, call)
        .map(|s| {
            s.stacks
                .iter()
                .rev()
                .filter(|st| filter.is_empty() || filter.iter().any(|f| f == st.status))
                .map(|st| {
                    Value::structure()
                        .with("StackId", st.id.as_str())
                        .with("StackName", st.name.as_str())
                        .with_opt("TemplateDescription", st.template.description.as_deref())
                        .with("CreationTime", st.created)
                        .with_opt("LastUpdatedTime", st.last_updated)
                        .with_opt("DeletionTime", st.deleted)
                        .with("StackStatus", st.status)
                        .with_opt("StackStatusReason", st.status_reason.as_deref())
                        .with("DriftInformation", Value::structure().with("StackDriftStatus", "NOT_CHECKED"))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Value::structure().with("StackSummaries", Value::List(summaries)))
}

fn list_stack_resources(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let name = stack_name_or_id(call)?;
    let stack =
        authorize_stack(world, call, "cloudformation:ListStackResources", name)?.ok_or_else(|| not_exist(name))?;
    let summaries: Vec<Value> = stack.resources.iter().map(resource_summary).collect();
    Ok(Value::structure().with("StackResourceSummaries", Value::List(summaries)))
}

fn resource_summary(r: &StackResource) -> Value {
    Value::structure()
        .with("LogicalResourceId", r.logical_id.as_str())
        .with_opt("PhysicalResourceId", r.physical_id.as_deref())
        .with("ResourceType", r.type_name.as_str())
        .with("LastUpdatedTimestamp", r.updated)
        .with("ResourceStatus", r.status)
        .with_opt("ResourceStatusReason", r.status_reason.as_deref())
        .with("DriftInformation", Value::structure().with("StackResourceDriftStatus", "NOT_CHECKED"))
}

fn get_template(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    if call.optional("ChangeSetName").is_some() {
        return Err(AwsError::validation("wana: change sets are not emulated"));
    }
    let name = stack_name_or_id(call)?;
    let stack = authorize_stack(world, call, "cloudformation:GetTemplate", name)?.ok_or_else(|| not_exist(name))?;
    Ok(Value::structure()
        .with("TemplateBody", stack.template.body.as_str())
        .with("StagesAvailable", Value::List(vec!["Original".into(), "Processed".into()])))
}

fn validate_template(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    call.authorize_identity(world, "cloudformation:ValidateTemplate", "*")?;
    let body = template_body(call)?;
    let template = parse_template(&body)?;
    let parameters: Vec<Value> = template
        .parameters
        .iter()
        .map(|p| {
            Value::structure()
                .with("ParameterKey", p.name.as_str())
                .with_opt("DefaultValue", p.default.as_deref())
                .with("NoEcho", p.no_echo)
                .with_opt("Description", p.description.as_deref())
        })
        .collect();
    let mut output = Value::structure()
        .with("Parameters", Value::List(parameters))
        .with_opt("Description", template.description.as_deref());
    match required_capability(&template) {
        Some((capability, types)) => {
            output.push("Capabilities", Value::List(vec![capability.as_str().into()]));
            output.push(
                "CapabilitiesReason",
                format!("The following resource(s) require capabilities: [{}]", types.join(", ")),
            );
        }
        None => output.push("Capabilities", Value::List(Vec::new())),
    }
    output.push("DeclaredTransforms", Value::List(Vec::new()));
    Ok(output)
}

// ---------------------------------------------------------------------------------------------
// Output shapes

fn stack_value(stack: &Stack) -> Value {
    let parameters: Vec<Value> = stack
        .parameters
        .iter()
        .map(|p| {
            Value::structure()
                .with("ParameterKey", p.key.as_str())
                .with("ParameterValue", if p.no_echo { "****" } else { p.value.as_str() })
        })
        .collect();
    let outputs: Vec<Value> = stack
        .outputs
        .iter()
        .map(|o| {
            Value::structure()
                .with("OutputKey", o.key.as_str())
                .with("OutputValue", o.value.as_str())
                .with_opt("Description", o.description.as_deref())
                .with_opt("ExportName", o.export_name.as_deref())
        })
        .collect();
    let tags: Vec<Value> =
        stack.tags.iter().map(|(k, v)| Value::structure().with("Key", k.as_str()).with("Value", v.as_str())).collect();
    let non_empty = |items: Vec<Value>| (!items.is_empty()).then_some(Value::List(items));
    Value::structure()
        .with("StackId", stack.id.as_str())
        .with("StackName", stack.name.as_str())
        .with_opt("Description", stack.template.description.as_deref())
        .with_opt("Parameters", non_empty(parameters))
        .with("CreationTime", stack.created)
        .with_opt("DeletionTime", stack.deleted)
        .with_opt("LastUpdatedTime", stack.last_updated)
        .with("RollbackConfiguration", Value::structure())
        .with("StackStatus", stack.status)
        .with_opt("StackStatusReason", stack.status_reason.as_deref())
        .with("DisableRollback", stack.on_failure == OnFailure::DoNothing)
        .with("NotificationARNs", stack.notification_arns.iter().map(String::as_str).collect::<Value>())
        .with_opt("TimeoutInMinutes", stack.timeout_minutes)
        .with_opt("Capabilities", non_empty(stack.capabilities.iter().map(|c| Value::from(c.as_str())).collect()))
        .with_opt("Outputs", non_empty(outputs))
        .with_opt("Tags", non_empty(tags))
        .with("EnableTerminationProtection", stack.termination_protection)
        .with("DriftInformation", Value::structure().with("StackDriftStatus", "NOT_CHECKED"))
}
