//! Run Command on the wire: `SendCommand`, `GetCommandInvocation`, `ListCommands`,
//! `ListCommandInvocations`, `CancelCommand`, `CreateDocument`, `DescribeDocument`,
//! `DeleteDocument`, and the agent's `GetMessages` (an inner call only: `ec2messages` is the
//! agents' own endpoint, which no client of wana calls). Members are checked against the model
//! (botocore ssm 2014-11-06) with AWS's validation messages; the model
//! (`crate::state::ssm::commands`, `documents`) authorizes and decides.
//!
//! Output shapes follow real responses quoted in public code: `GetCommandInvocation` carries
//! `StandardOutputUrl`, `StandardErrorUrl` and `CloudWatchOutputConfig` empty, and
//! `ExecutionStartDateTime`/`ExecutionEndDateTime` as `2023-05-07T22:13:33.797Z` and
//! `ExecutionElapsedTime` as an ISO-8601 duration (`PT1H0.271S`), empty strings before the
//! plugin starts or ends; `Command` carries `OutputS3Region` (the region), empty S3 members and
//! notification configuration. `CreateDocument` answers `Status` `Creating` (the CLI
//! reference's example); the document is `Active` from then on. Accepted and not emulated:
//! S3 and CloudWatch output, notifications, alarms, `ServiceRoleArn`, `DocumentHash`.

use chrono::{DateTime, Duration, SecondsFormat, Utc};

use crate::{
    error::AwsError,
    state::{
        ssm::{
            commands::{self, Command, CommandFilter, Invocation, PluginResult, SendCommand},
            documents::{self, Document, NewDocument},
        },
        World,
    },
    validation::{coral_name, Violations},
    value::Value,
};

use super::{check, is_instance_id, list_length, list_of, one_of, page, range, string_of, strings_of, Call, Input, INSTANCE_ID_PATTERN};

pub(super) fn handle(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Option<Result<Value, AwsError>> {
    Some(match call.action {
        "SendCommand" => send_command(world, call, input),
        "GetCommandInvocation" => get_command_invocation(world, call, input),
        "ListCommands" => list_commands(world, call, input),
        "ListCommandInvocations" => list_command_invocations(world, call, input),
        "CancelCommand" => cancel_command(world, call, input),
        "CreateDocument" => create_document(world, call, input),
        "DescribeDocument" => describe_document(world, call, input),
        "DeleteDocument" => delete_document(world, call, input),
        _ => return None,
    })
}

/// The agent's `GetMessages` (`ec2messages`), reached only through inner calls.
pub(super) fn get_messages(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let destination = input.string("Destination")?.unwrap_or_default();
    commands::get_messages(world, call.facts(), destination)?;
    Ok(Value::structure()
        .with("Destination", destination)
        .with("Messages", Value::List(Vec::new()))
        .with_opt("MessagesRequestId", input.string("MessagesRequestId")?))
}

// ---------------------------------------------------------------------------------------------
// Checks of the model's constraints.

fn pattern_chars(text: &str, extra: &str) -> bool {
    text.chars().all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

const DOCUMENT_ARN_PATTERN: &str = r"^[a-zA-Z0-9_\-.:/]{3,128}$";
const DOCUMENT_NAME_PATTERN: &str = r"^[a-zA-Z0-9_\-.]{3,128}$";
const DOCUMENT_VERSION_PATTERN: &str = r"([$]LATEST|[$]DEFAULT|^[1-9][0-9]*$)";
const VERSION_NAME_PATTERN: &str = r"^[a-zA-Z0-9_\-.]{1,128}$";
const MAX_CONCURRENCY_PATTERN: &str = r"^([1-9][0-9]*|[1-9][0-9]%|[1-9]%|100%)$";
const MAX_ERRORS_PATTERN: &str = r"^([1-9][0-9]*|[0]|[1-9][0-9]%|[0-9]%|100%)$";

fn pattern(violations: &mut Violations, member: &str, value: Option<&str>, ok: impl Fn(&str) -> bool, shown: &str) {
    if let Some(value) = value.filter(|v| !ok(v)) {
        violations.push(member, value, format!("Member must satisfy regular expression pattern: {shown}"));
    }
}

/// A required member (`Member must not be null` when absent).
fn required<'a>(input: &Input<'a>, violations: &mut Violations, name: &str) -> Result<Option<&'a str>, AwsError> {
    let value = input.string(name)?;
    if value.is_none() {
        violations.push_null(&coral_name(name), "Member must not be null");
    }
    Ok(value)
}

fn document_arn_ok(v: &str) -> bool {
    (3..=128).contains(&v.len()) && pattern_chars(v, "_-.:/")
}

fn document_name_ok(v: &str) -> bool {
    (3..=128).contains(&v.len()) && pattern_chars(v, "_-.")
}

fn document_version_ok(v: &str) -> bool {
    v == "$LATEST" || v == "$DEFAULT" || (v.starts_with(|c: char| ('1'..='9').contains(&c)) && v.bytes().all(|b| b.is_ascii_digit()))
}

fn version_name_ok(v: &str) -> bool {
    (1..=128).contains(&v.len()) && pattern_chars(v, "_-.")
}

/// `N`, or `N%` with N from 1 to 100 (`MaxConcurrency`); `MaxErrors` also takes 0 and 0%.
fn share_ok(v: &str, zero: bool) -> bool {
    let (digits, percent) = v.strip_suffix('%').map_or((v, false), |d| (d, true));
    let Ok(n) = digits.parse::<u64>() else { return false };
    let canonical = n.to_string() == digits;
    canonical && v.len() <= 7 && (n > 0 || zero) && (!percent || n <= 100)
}

fn instance_ids(violations: &mut Violations, member: &str, ids: Option<&[Value]>) -> Result<Option<Vec<String>>, AwsError> {
    let Some(ids) = ids.map(strings_of).transpose()? else {
        return Ok(None);
    };
    list_length(violations, member, &ids, 0, 50);
    for (index, id) in ids.iter().enumerate() {
        pattern(violations, &format!("{member}.{}.member", index + 1), Some(id), is_instance_id, INSTANCE_ID_PATTERN);
    }
    Ok(Some(ids))
}

fn command_id<'a>(input: &Input<'a>, violations: &mut Violations, required_member: bool) -> Result<Option<&'a str>, AwsError> {
    let id = if required_member { required(input, violations, "CommandId")? } else { input.string("CommandId")? };
    if let Some(id) = id {
        violations.length("commandId", id, 36, 36);
    }
    Ok(id)
}

fn optional_instance_id<'a>(input: &Input<'a>, violations: &mut Violations) -> Result<Option<&'a str>, AwsError> {
    let id = input.string("InstanceId")?;
    pattern(violations, "instanceId", id, is_instance_id, INSTANCE_ID_PATTERN);
    Ok(id)
}

fn max_results(input: &Input<'_>, violations: &mut Violations) -> Result<usize, AwsError> {
    let max = input.int("MaxResults")?;
    range(violations, "maxResults", max, 1, 50);
    Ok(max.and_then(|m| usize::try_from(m).ok()).unwrap_or(50))
}

/// `Filters` of the list operations: `key` from the model's enum, `value` of 1 to 128.
fn command_filters(input: &Input<'_>, violations: &mut Violations) -> Result<Vec<(String, String)>, AwsError> {
    const KEYS: [&str; 5] = ["InvokedAfter", "InvokedBefore", "Status", "ExecutionStage", "DocumentName"];
    let Some(items) = input.list("Filters")? else {
        return Ok(Vec::new());
    };
    if items.is_empty() || items.len() > 5 {
        let shown = format!("[{}]", vec!["CommandFilter"; items.len()].join(", "));
        let rule = if items.is_empty() { "greater than or equal to 1" } else { "less than or equal to 5" };
        violations.push("filters", &shown, format!("Member must have length {rule}"));
    }
    let mut out = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let at = |member: &str| format!("filters.{}.member.{member}", index + 1);
        let key = string_of(item, "key")?;
        let value = string_of(item, "value")?;
        match key {
            None => violations.push_null(&at("key"), "Member must not be null"),
            Some(key) => one_of(violations, &at("key"), Some(key), &KEYS),
        }
        match value {
            None => violations.push_null(&at("value"), "Member must not be null"),
            Some(value) => violations.length(&at("value"), value, 1, 128),
        }
        if let (Some(key), Some(value)) = (key, value) {
            out.push((key.to_string(), value.to_string()));
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Output shapes.

fn empty_notification() -> Value {
    Value::structure()
        .with("NotificationArn", "")
        .with("NotificationEvents", Value::List(Vec::new()))
        .with("NotificationType", "")
}

fn empty_cloudwatch() -> Value {
    Value::structure().with("CloudWatchLogGroupName", "").with("CloudWatchOutputEnabled", false)
}

fn string_lists(entries: &[(String, Vec<String>)]) -> Value {
    Value::Map(entries.iter().map(|(k, v)| (k.clone(), v.iter().map(Value::from).collect())).collect())
}

fn command_value(command: &Command, region: &str) -> Value {
    let (status, details) = command.status();
    let targets = command
        .targets
        .iter()
        .map(|(key, values)| Value::structure().with("Key", key.as_str()).with("Values", values.iter().map(Value::from).collect::<Value>()))
        .collect::<Value>();
    Value::structure()
        .with("CommandId", command.id.as_str())
        .with("DocumentName", command.document_name.as_str())
        .with("DocumentVersion", command.document_version.as_str())
        .with("Comment", command.comment.as_str())
        .with("ExpiresAfter", command.expires_after)
        .with("Parameters", string_lists(&command.parameters))
        .with("InstanceIds", command.instance_ids.iter().map(Value::from).collect::<Value>())
        .with("Targets", targets)
        .with("RequestedDateTime", command.requested)
        .with("Status", status)
        .with("StatusDetails", details)
        .with("OutputS3Region", region)
        .with("OutputS3BucketName", "")
        .with("OutputS3KeyPrefix", "")
        .with("MaxConcurrency", command.max_concurrency.as_str())
        .with("MaxErrors", command.max_errors.as_str())
        .with("TargetCount", command.target_count())
        .with("CompletedCount", command.completed_count())
        .with("ErrorCount", command.error_count())
        .with("DeliveryTimedOutCount", command.delivery_timed_out_count())
        .with("ServiceRole", "")
        .with("NotificationConfig", empty_notification())
        .with("CloudWatchOutputConfig", empty_cloudwatch())
        .with("TimeoutSeconds", command.timeout_seconds)
}

/// `2023-05-07T22:13:33.797Z`, or empty when there is no such time yet.
fn string_date(at: Option<DateTime<Utc>>) -> String {
    at.map(|t| t.to_rfc3339_opts(SecondsFormat::Millis, true)).unwrap_or_default()
}

/// An ISO-8601 duration as Java writes it (`PT1H0.271S`, `PT2.5S`, `PT0S`), to the millisecond.
fn iso_duration(elapsed: Duration) -> String {
    let millis = elapsed.num_milliseconds().max(0);
    let (hours, minutes) = (millis / 3_600_000, millis / 60_000 % 60);
    let (seconds, fraction) = (millis / 1000 % 60, millis % 1000);
    let mut out = String::from("PT");
    if hours > 0 {
        out.push_str(&format!("{hours}H"));
    }
    if minutes > 0 {
        out.push_str(&format!("{minutes}M"));
    }
    if seconds > 0 || fraction > 0 || (hours == 0 && minutes == 0) {
        out.push_str(&seconds.to_string());
        if fraction > 0 {
            out.push_str(format!(".{fraction:03}").trim_end_matches('0'));
        }
        out.push('S');
    }
    out
}

fn plugin_value(plugin: &PluginResult, region: &str) -> Value {
    Value::structure()
        .with("Name", plugin.run.name.as_str())
        .with("Status", plugin.status.as_str())
        .with("StatusDetails", plugin.details)
        .with("ResponseCode", plugin.response_code)
        .with_opt("ResponseStartDateTime", plugin.started)
        .with_opt("ResponseFinishDateTime", plugin.finished)
        .with("Output", plugin.output())
        .with("StandardOutputUrl", "")
        .with("StandardErrorUrl", "")
        .with("OutputS3Region", region)
        .with("OutputS3BucketName", "")
        .with("OutputS3KeyPrefix", "")
}

fn invocation_value(command: &Command, invocation: &Invocation, details: bool, region: &str) -> Value {
    let plugins = if details { invocation.plugins.iter().map(|p| plugin_value(p, region)).collect() } else { Vec::new() };
    Value::structure()
        .with("CommandId", command.id.as_str())
        .with("InstanceId", invocation.instance_id.as_str())
        .with("InstanceName", invocation.instance_name.as_str())
        .with("Comment", command.comment.as_str())
        .with("DocumentName", command.document_name.as_str())
        .with("DocumentVersion", command.document_version.as_str())
        .with("RequestedDateTime", command.requested)
        .with("Status", invocation.status.as_str())
        .with("StatusDetails", invocation.details)
        .with("TraceOutput", "")
        .with("StandardOutputUrl", "")
        .with("StandardErrorUrl", "")
        .with("CommandPlugins", Value::List(plugins))
        .with("ServiceRole", "")
        .with("NotificationConfig", empty_notification())
        .with("CloudWatchOutputConfig", empty_cloudwatch())
}

fn document_value(document: &Document, status: &str) -> Value {
    let parameters = document
        .parameters
        .iter()
        .map(|p| {
            Value::structure()
                .with("Name", p.name.as_str())
                .with("Type", p.kind.as_str())
                .with_opt("Description", p.description.as_deref())
                .with_opt("DefaultValue", p.default_text())
        })
        .collect::<Value>();
    let tags = document
        .tags
        .iter()
        .map(|(k, v)| Value::structure().with("Key", k.as_str()).with("Value", v.as_str()))
        .collect::<Value>();
    Value::structure()
        .with("Hash", document.hash.as_str())
        .with("HashType", "Sha256")
        .with("Name", document.name.as_str())
        .with_opt("DisplayName", document.display_name.as_deref())
        .with_opt("VersionName", document.version_name.as_deref())
        .with("Owner", document.owner.as_str())
        .with("CreatedDate", document.created)
        .with("Status", status)
        .with("DocumentVersion", "1")
        .with_opt("Description", document.description.as_deref())
        .with("Parameters", parameters)
        .with("PlatformTypes", document.platform_types().into_iter().map(Value::from).collect::<Value>())
        .with("DocumentType", document.document_type.as_str())
        .with("SchemaVersion", document.schema_version.as_str())
        .with("LatestVersion", "1")
        .with("DefaultVersion", "1")
        .with("DocumentFormat", document.format.as_str())
        .with_opt("TargetType", document.target_type.as_deref())
        .with("Tags", tags)
}

// ---------------------------------------------------------------------------------------------
// Operations.

fn send_command(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let mut violations = Violations::new();
    let document_name = required(input, &mut violations, "DocumentName")?;
    pattern(&mut violations, "documentName", document_name, document_arn_ok, DOCUMENT_ARN_PATTERN);
    let document_version = input.string("DocumentVersion")?;
    pattern(&mut violations, "documentVersion", document_version, document_version_ok, DOCUMENT_VERSION_PATTERN);
    let ids = instance_ids(&mut violations, "instanceIds", input.list("InstanceIds")?)?;
    let targets = match input.list("Targets")? {
        None => None,
        Some(items) => {
            if items.len() > 5 {
                violations.push("targets", &format!("[{}]", vec!["Target"; items.len()].join(", ")), "Member must have length less than or equal to 5");
            }
            let mut targets = Vec::new();
            for (index, item) in items.iter().enumerate() {
                let key = string_of(item, "Key")?.unwrap_or_default();
                let values = list_of(item, "Values")?.map(strings_of).transpose()?.unwrap_or_default();
                violations.length(&format!("targets.{}.member.key", index + 1), key, 1, 163);
                list_length(&mut violations, &format!("targets.{}.member.values", index + 1), &values, 0, 50);
                targets.push((key.to_string(), values));
            }
            Some(targets)
        }
    };
    let timeout_seconds = input.int("TimeoutSeconds")?;
    range(&mut violations, "timeoutSeconds", timeout_seconds, 30, 2_592_000);
    let comment = input.string("Comment")?;
    if let Some(comment) = comment {
        violations.length("comment", comment, 0, 100);
    }
    let max_concurrency = input.string("MaxConcurrency")?;
    pattern(&mut violations, "maxConcurrency", max_concurrency, |v| share_ok(v, false), MAX_CONCURRENCY_PATTERN);
    let max_errors = input.string("MaxErrors")?;
    pattern(&mut violations, "maxErrors", max_errors, |v| share_ok(v, true), MAX_ERRORS_PATTERN);
    let parameters = match input.0.get("Parameters") {
        None | Some(Value::Null) => Vec::new(),
        Some(map @ (Value::Struct(_) | Value::Map(_))) => map
            .entries()
            .iter()
            .map(|(name, values)| match values {
                Value::List(items) => Ok((name.clone(), strings_of(items)?)),
                _ => Err(super::serialization_error()),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(super::serialization_error()),
    };
    check(&violations)?;
    let request = SendCommand {
        document_name: document_name.unwrap_or_default(),
        document_version,
        instance_ids: ids,
        targets,
        parameters,
        comment,
        timeout_seconds,
        max_concurrency,
        max_errors,
    };
    let command = commands::send_command(world, call.facts(), &request)?;
    Ok(Value::structure().with("Command", command_value(&command, call.region)))
}

fn get_command_invocation(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let mut violations = Violations::new();
    let command_id = command_id(input, &mut violations, true)?;
    let instance_id = required(input, &mut violations, "InstanceId")?;
    pattern(&mut violations, "instanceId", instance_id, is_instance_id, INSTANCE_ID_PATTERN);
    let plugin_name = input.string("PluginName")?;
    if let Some(name) = plugin_name {
        violations.length("pluginName", name, 4, usize::MAX);
    }
    check(&violations)?;
    let (command_id, instance_id) = (command_id.unwrap_or_default(), instance_id.unwrap_or_default());
    let (command, index) = commands::get_command_invocation(world, call.facts(), command_id, instance_id, plugin_name)?;
    let Some(invocation) = command.invocation(instance_id) else {
        return Err(commands::invocation_does_not_exist());
    };
    let plugin = &invocation.plugins[index];
    // Without PluginName, the one plugin's result with the invocation's status (which also says
    // Cancelling and DeliveryTimedOut); with it, the plugin's own.
    let (status, details) = match plugin_name {
        None => (invocation.status.as_str(), invocation.details),
        Some(_) => (plugin.status.as_str(), plugin.details),
    };
    let elapsed = plugin.started.map(|start| iso_duration(plugin.finished.unwrap_or(call.now) - start));
    Ok(Value::structure()
        .with("CommandId", command.id.as_str())
        .with("InstanceId", invocation.instance_id.as_str())
        .with("Comment", command.comment.as_str())
        .with("DocumentName", command.document_name.as_str())
        .with("DocumentVersion", command.document_version.as_str())
        .with("PluginName", plugin.run.name.as_str())
        .with("ResponseCode", plugin.response_code)
        .with("ExecutionStartDateTime", string_date(plugin.started))
        .with("ExecutionElapsedTime", elapsed.unwrap_or_default())
        .with("ExecutionEndDateTime", string_date(plugin.finished))
        .with("Status", status)
        .with("StatusDetails", details)
        .with("StandardOutputContent", plugin.standard_output_content())
        .with("StandardOutputUrl", "")
        .with("StandardErrorContent", plugin.standard_error_content())
        .with("StandardErrorUrl", "")
        .with("CloudWatchOutputConfig", empty_cloudwatch()))
}

/// The members both list operations share.
struct ListRequest<'a> {
    command_id: Option<&'a str>,
    instance_id: Option<&'a str>,
    filters: Vec<CommandFilter>,
    max_results: usize,
    next_token: Option<&'a str>,
}

fn list_request<'a>(input: &Input<'a>, for_commands: bool) -> Result<ListRequest<'a>, AwsError> {
    let mut violations = Violations::new();
    let command_id = command_id(input, &mut violations, false)?;
    let instance_id = optional_instance_id(input, &mut violations)?;
    let max_results = max_results(input, &mut violations)?;
    let filters = command_filters(input, &mut violations)?;
    check(&violations)?;
    let filters = filters
        .iter()
        .map(|(key, value)| CommandFilter::parse(key, value, for_commands))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ListRequest { command_id, instance_id, filters, max_results, next_token: input.string("NextToken")? })
}

fn list_commands(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let request = list_request(input, true)?;
    let commands = commands::list_commands(world, call.facts(), request.command_id, request.instance_id, &request.filters)?;
    let (commands, next) = page(commands, request.next_token, request.max_results)?;
    Ok(Value::structure()
        .with("Commands", commands.iter().map(|c| command_value(c, call.region)).collect::<Value>())
        .with_opt("NextToken", next))
}

fn list_command_invocations(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let request = list_request(input, false)?;
    let details = input.bool("Details")?;
    let invocations =
        commands::list_command_invocations(world, call.facts(), request.command_id, request.instance_id, &request.filters)?;
    let (invocations, next) = page(invocations, request.next_token, request.max_results)?;
    Ok(Value::structure()
        .with(
            "CommandInvocations",
            invocations.iter().map(|(c, i)| invocation_value(c, i, details, call.region)).collect::<Value>(),
        )
        .with_opt("NextToken", next))
}

fn cancel_command(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let mut violations = Violations::new();
    let command_id = command_id(input, &mut violations, true)?;
    let ids = instance_ids(&mut violations, "instanceIds", input.list("InstanceIds")?)?;
    check(&violations)?;
    commands::cancel_command(world, call.facts(), command_id.unwrap_or_default(), &ids.unwrap_or_default())?;
    Ok(Value::structure())
}

const DOCUMENT_TYPES: [&str; 17] = [
    "Command",
    "Policy",
    "Automation",
    "Session",
    "Package",
    "ApplicationConfiguration",
    "ApplicationConfigurationSchema",
    "DeploymentStrategy",
    "ChangeCalendar",
    "Automation.ChangeTemplate",
    "ProblemAnalysis",
    "ProblemAnalysisTemplate",
    "CloudFormation",
    "ConformancePackTemplate",
    "QuickSetup",
    "ManualApprovalPolicy",
    "AutoApprovalPolicy",
];

fn create_document(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let mut violations = Violations::new();
    let content = required(input, &mut violations, "Content")?;
    if let Some(content) = content.filter(|c| c.is_empty()) {
        violations.push("content", content, "Member must have length greater than or equal to 1");
    }
    let name = required(input, &mut violations, "Name")?;
    pattern(&mut violations, "name", name, document_name_ok, DOCUMENT_NAME_PATTERN);
    let document_type = input.string("DocumentType")?;
    one_of(&mut violations, "documentType", document_type, &DOCUMENT_TYPES);
    let format = input.string("DocumentFormat")?;
    one_of(&mut violations, "documentFormat", format, &["YAML", "JSON", "TEXT"]);
    let version_name = input.string("VersionName")?;
    pattern(&mut violations, "versionName", version_name, version_name_ok, VERSION_NAME_PATTERN);
    let display_name = input.string("DisplayName")?;
    if let Some(display_name) = display_name {
        violations.length("displayName", display_name, 0, 1024);
    }
    let target_type = input.string("TargetType")?;
    let mut tags = Vec::new();
    for item in input.list("Tags")?.unwrap_or_default() {
        let key = string_of(item, "Key")?.unwrap_or_default();
        let value = string_of(item, "Value")?.unwrap_or_default();
        tags.push((key.to_string(), value.to_string()));
    }
    check(&violations)?;
    let new = NewDocument {
        name: name.unwrap_or_default(),
        content: content.unwrap_or_default(),
        document_type,
        format,
        display_name,
        version_name,
        target_type,
        tags,
    };
    let document = documents::create_document(world, call.facts(), &new)?;
    Ok(Value::structure().with("DocumentDescription", document_value(&document, "Creating")))
}

fn describe_document(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let mut violations = Violations::new();
    let name = required(input, &mut violations, "Name")?;
    pattern(&mut violations, "name", name, document_arn_ok, DOCUMENT_ARN_PATTERN);
    let version = input.string("DocumentVersion")?;
    pattern(&mut violations, "documentVersion", version, document_version_ok, DOCUMENT_VERSION_PATTERN);
    let version_name = input.string("VersionName")?;
    pattern(&mut violations, "versionName", version_name, version_name_ok, VERSION_NAME_PATTERN);
    check(&violations)?;
    let document = documents::describe_document(world, call.facts(), name.unwrap_or_default(), version, version_name)?;
    Ok(Value::structure().with("Document", document_value(&document, "Active")))
}

fn delete_document(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let mut violations = Violations::new();
    let name = required(input, &mut violations, "Name")?;
    pattern(&mut violations, "name", name, document_name_ok, DOCUMENT_NAME_PATTERN);
    let version = input.string("DocumentVersion")?;
    pattern(&mut violations, "documentVersion", version, document_version_ok, DOCUMENT_VERSION_PATTERN);
    let version_name = input.string("VersionName")?;
    pattern(&mut violations, "versionName", version_name, version_name_ok, VERSION_NAME_PATTERN);
    // Force matters only for document types wana does not emulate.
    let _force = input.bool("Force")?;
    check(&violations)?;
    documents::delete_document(world, call.facts(), name.unwrap_or_default(), version, version_name)?;
    Ok(Value::structure())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elapsed_times_are_written_as_java_writes_durations() {
        let ms = Duration::milliseconds;
        assert_eq!(iso_duration(ms(3_600_271)), "PT1H0.271S");
        assert_eq!(iso_duration(ms(2_500)), "PT2.5S");
        assert_eq!(iso_duration(ms(0)), "PT0S");
        assert_eq!(iso_duration(ms(3_600_000)), "PT1H");
        assert_eq!(iso_duration(ms(61_020)), "PT1M1.02S");
    }

    #[test]
    fn shares_follow_the_model_patterns() {
        assert!(share_ok("50", false) && share_ok("10%", false) && share_ok("100%", false));
        assert!(!share_ok("0", false) && !share_ok("101%", false) && !share_ok("05", false));
        assert!(share_ok("0", true) && share_ok("0%", true));
    }
}
