//! SSM documents of type `Command`: the built-in `AWS-RunShellScript`, the account's own
//! (`CreateDocument`, `DescribeDocument`, `DeleteDocument`), and how a document and the
//! parameters of a `SendCommand` become the scripts an agent runs ([`resolve`]).
//!
//! Facts (botocore ssm 2014-11-06; public documents and outputs):
//! * `AWS-RunShellScript` is a schema 1.2 document: parameters `commands` (StringList,
//!   `minItems` 1, required), `workingDirectory` (String, default empty), `executionTimeout`
//!   (String, default `3600`, allowed 1 to 172800), and one plugin, `aws:runShellScript`, which is
//!   also the `PluginName` `GetCommandInvocation` shows for it (terraform-provider-aws fixtures,
//!   boto3 issue 654, real responses quoted in public tests). Its `DocumentVersion` in commands
//!   is `$DEFAULT` unless the caller names one.
//! * Schema 2.2 documents have `mainSteps`; a step's `name` is its `PluginName`. Parameters are
//!   referenced as `{{ name }}`; a reference to an undeclared parameter is
//!   `InvalidDocumentContent` "Parameter "X" is not declared." (CrowdStrike/aws-ssm-distributor
//!   issue 66). Malformed JSON is `InvalidDocumentContent` "JSON not well-formed. at Line: L,
//!   Column: C" (aws-batch-genomics issue 14, amazon-eks-ami issue 716). `DocumentFormat`
//!   defaults to `JSON`, so YAML sent without `--document-format YAML` fails that way.
//! * The agent's `aws:runShellScript` (amazon-ssm-agent, `plugins/runscript`): `runCommand`
//!   lines become one script; `timeoutSeconds` outside 5..=172800, or unreadable, becomes the
//!   default 3600; a relative `workingDirectory` that does not exist falls back to the default.
//! * Reserved name prefixes (the model's `CreateDocument.Name`): `aws`, `amazon`, `amzn`,
//!   `AWSEC2`, `AWSConfigRemediation`, `AWSSupport`.
//!
//! Chosen, unconfirmed: the texts of `InvalidDocument` ("The specified document does not
//! exist.", the SDKs' description of the error), `DocumentAlreadyExists`, `InvalidParameters`
//! ("document <name> does not support parameters.", the one text public reports show for it,
//! boto3 issue 3151 and aws-tools-for-powershell issue 275, used for unknown, missing and invalid
//! parameters alike), `InvalidDocumentSchemaVersion` and the structural `InvalidDocumentContent`
//! texts; reserved prefixes compared without case for `aws`, `amazon` and `amzn`. Not emulated,
//! and refused as such: document types other than `Command`, actions other than
//! `aws:runShellScript`, several `properties` in one schema 1.2 plugin, `allowedPattern` of
//! custom documents, `{{ssm:...}}` parameter references (left as written), document versions
//! other than 1.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value as Json;

use crate::{authz::RequestFacts, error::AwsError, state::World};

use super::{access::authorize, state, state_mut};

/// The built-in document every account can run.
pub const RUN_SHELL_SCRIPT: &str = "AWS-RunShellScript";
/// The one plugin action wana runs.
pub const RUN_SHELL_SCRIPT_ACTION: &str = "aws:runShellScript";
/// The agent's default and bounds for a plugin's `timeoutSeconds`.
pub const DEFAULT_EXECUTION_TIMEOUT: u64 = 3600;
const MIN_EXECUTION_TIMEOUT: u64 = 5;
const MAX_EXECUTION_TIMEOUT: u64 = 172_800;
/// `CreateDocument`: "The content of the document must not exceed 64KB."
const MAX_CONTENT_BYTES: usize = 64 * 1024;

const BUILT_IN_CONTENT: &str = r#"{
  "schemaVersion": "1.2",
  "description": "Run a shell script or specify the commands to run.",
  "parameters": {
    "commands": {
      "type": "StringList",
      "description": "(Required) Specify a shell script or a command to run.",
      "minItems": 1,
      "displayType": "textarea"
    },
    "workingDirectory": {
      "type": "String",
      "default": "",
      "description": "(Optional) The path to the working directory on your instance.",
      "maxChars": 4096
    },
    "executionTimeout": {
      "type": "String",
      "default": "3600",
      "description": "(Optional) The time in seconds for a command to complete before it is considered to have failed. Default is 3600 (1 hour). Maximum is 172800 (48 hours).",
      "allowedPattern": "([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800)"
    }
  },
  "runtimeConfig": {
    "aws:runShellScript": {
      "properties": [
        {
          "id": "0.aws:runShellScript",
          "runCommand": "{{ commands }}",
          "workingDirectory": "{{ workingDirectory }}",
          "timeoutSeconds": "{{ executionTimeout }}"
        }
      ]
    }
  }
}"#;

/// Actions of Command documents that AWS knows and wana does not run.
const OTHER_COMMAND_ACTIONS: [&str; 14] = [
    "aws:applications",
    "aws:cloudWatch",
    "aws:configureDocker",
    "aws:configurePackage",
    "aws:domainJoin",
    "aws:downloadContent",
    "aws:psModule",
    "aws:refreshAssociation",
    "aws:runDockerAction",
    "aws:runDocument",
    "aws:runPowerShellScript",
    "aws:softwareInventory",
    "aws:updateAgent",
    "aws:updateSsmAgent",
];

const PARAMETER_TYPES: [&str; 6] = ["String", "StringList", "Integer", "Boolean", "StringMap", "MapList"];

/// A parameter a document declares.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentParameter {
    pub name: String,
    /// `String`, `StringList`, ... as declared.
    pub kind: String,
    pub description: Option<String>,
    /// The declared default; a parameter without one is required.
    pub default: Option<Json>,
    pub allowed_values: Vec<String>,
    pub min_items: Option<usize>,
}

impl DocumentParameter {
    /// `DefaultValue` as `DescribeDocument` shows it: text as is, anything else as JSON.
    pub fn default_text(&self) -> Option<String> {
        self.default.as_ref().map(|d| match d {
            Json::String(s) => s.clone(),
            other => other.to_string(),
        })
    }
}

/// One plugin of a document: a schema 2.x step, or the plugin of a schema 1.2 `runtimeConfig`.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    /// The `PluginName` of its results (a step's `name`; a 1.2 plugin's action).
    pub name: String,
    pub action: String,
    /// The plugin's inputs with `{{ parameter }}` references unresolved.
    pub inputs: Json,
}

/// A Command document.
#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub name: String,
    /// `Amazon` for AWS's documents, the account id for the account's own.
    pub owner: String,
    pub created: DateTime<Utc>,
    pub content: String,
    /// `JSON` or `YAML`.
    pub format: String,
    pub document_type: String,
    pub schema_version: String,
    pub description: Option<String>,
    /// SHA-256 of the content, in hexadecimal (`HashType` `Sha256`).
    pub hash: String,
    pub parameters: Vec<DocumentParameter>,
    pub steps: Vec<Step>,
    pub display_name: Option<String>,
    pub version_name: Option<String>,
    pub target_type: Option<String>,
    pub tags: Vec<(String, String)>,
}

impl Document {
    /// `PlatformTypes`: what `aws:runShellScript` runs on.
    pub fn platform_types(&self) -> [&'static str; 2] {
        ["Linux", "MacOS"]
    }

    pub fn is_aws_owned(&self) -> bool {
        self.owner == "Amazon"
    }
}

/// `arn:aws:ssm:<region>:<account>:document/<name>`; AWS's documents have no account.
pub fn document_arn(region: &str, account: &str, name: &str) -> String {
    let owner = if is_built_in(name) { "" } else { account };
    format!("arn:aws:ssm:{region}:{owner}:document/{name}")
}

fn is_built_in(name: &str) -> bool {
    name == RUN_SHELL_SCRIPT
}

/// When AWS's `AWS-RunShellScript` shows as created. Chosen: AWS does not say.
fn built_in_created() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2017, 8, 31, 0, 0, 0).single().unwrap_or_default()
}

/// The built-in `AWS-RunShellScript`.
pub fn built_in() -> Document {
    let parsed = parse_content(BUILT_IN_CONTENT, "JSON").expect("the built-in document is JSON");
    build(RUN_SHELL_SCRIPT, "Amazon", built_in_created(), BUILT_IN_CONTENT, "JSON", &parsed)
        .expect("the built-in document is a valid Command document")
}

// ---------------------------------------------------------------------------------------------
// Errors (texts chosen where the module documentation says so).

fn ssm(code: &'static str, message: impl Into<String>) -> AwsError {
    AwsError::new(code, 400, message)
}

pub fn invalid_document() -> AwsError {
    ssm("InvalidDocument", "The specified document does not exist.")
}

fn invalid_content(message: impl Into<String>) -> AwsError {
    ssm("InvalidDocumentContent", message)
}

pub fn invalid_parameters(document: &str) -> AwsError {
    ssm("InvalidParameters", format!("document {document} does not support parameters."))
}

pub fn invalid_document_version() -> AwsError {
    ssm("InvalidDocumentVersion", "The document version is not valid or does not exist.")
}

fn not_emulated(what: String) -> AwsError {
    ssm("ValidationException", format!("{what} is not emulated by wana."))
}

// ---------------------------------------------------------------------------------------------
// Parsing and checking a document's content.

fn parse_content(content: &str, format: &str) -> Result<Json, AwsError> {
    match format {
        "YAML" => serde_yaml::from_str::<Json>(content).map_err(|e| {
            let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
            invalid_content(format!("YAML not well-formed. at Line: {line}, Column: {column}"))
        }),
        _ => serde_json::from_str::<Json>(content)
            .map_err(|e| invalid_content(format!("JSON not well-formed. at Line: {}, Column: {}", e.line(), e.column()))),
    }
}

/// A scalar as text (YAML may give `schemaVersion: 2.2` as a number).
fn text(value: &Json) -> Option<String> {
    match value {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Builds a document from its parsed content, with SSM's content errors.
fn build(name: &str, owner: &str, created: DateTime<Utc>, content: &str, format: &str, parsed: &Json) -> Result<Document, AwsError> {
    let Json::Object(top) = parsed else {
        return Err(invalid_content("The document must be an object with a schemaVersion."));
    };
    let schema_version = top
        .get("schemaVersion")
        .and_then(text)
        .ok_or_else(|| invalid_content("schemaVersion is required."))?;
    let parameters = parameters(top.get("parameters"))?;
    let steps = match schema_version.as_str() {
        "1.2" => runtime_config(top.get("runtimeConfig"))?,
        "2.0" | "2.2" => main_steps(top.get("mainSteps"))?,
        other => {
            return Err(ssm(
                "InvalidDocumentSchemaVersion",
                format!("Document schema version, {other}, is not supported by the document type Command."),
            ))
        }
    };
    for step in &steps {
        check_references(&step.inputs, &parameters)?;
    }
    Ok(Document {
        name: name.to_string(),
        owner: owner.to_string(),
        created,
        content: content.to_string(),
        format: format.to_string(),
        document_type: "Command".to_string(),
        schema_version,
        description: top.get("description").and_then(text),
        hash: hex::encode(<sha2::Sha256 as sha2::Digest>::digest(content.as_bytes())),
        parameters,
        steps,
        display_name: None,
        version_name: None,
        target_type: None,
        tags: Vec::new(),
    })
}

fn parameters(declared: Option<&Json>) -> Result<Vec<DocumentParameter>, AwsError> {
    let declared = match declared {
        None | Some(Json::Null) => return Ok(Vec::new()),
        Some(Json::Object(map)) => map,
        Some(_) => return Err(invalid_content("parameters must be an object.")),
    };
    let mut out = Vec::new();
    for (name, spec) in declared {
        let Json::Object(spec) = spec else {
            return Err(invalid_content(format!("Parameter \"{name}\" must be an object.")));
        };
        let kind = spec.get("type").and_then(Json::as_str).unwrap_or_default();
        if !PARAMETER_TYPES.contains(&kind) {
            return Err(invalid_content(format!("Parameter \"{name}\" has an invalid type: {kind}.")));
        }
        let allowed_values = spec
            .get("allowedValues")
            .and_then(Json::as_array)
            .map(|values| values.iter().filter_map(text).collect())
            .unwrap_or_default();
        out.push(DocumentParameter {
            name: name.clone(),
            kind: kind.to_string(),
            description: spec.get("description").and_then(text),
            default: spec.get("default").cloned(),
            allowed_values,
            min_items: spec.get("minItems").and_then(Json::as_u64).map(|n| n as usize),
        });
    }
    Ok(out)
}

fn check_action(action: &str) -> Result<(), AwsError> {
    if action == RUN_SHELL_SCRIPT_ACTION {
        Ok(())
    } else if OTHER_COMMAND_ACTIONS.contains(&action) {
        Err(not_emulated(format!("The action {action} (wana runs {RUN_SHELL_SCRIPT_ACTION} only)")))
    } else {
        Err(invalid_content(format!("Action {action} is not supported in a Command document.")))
    }
}

fn check_inputs(plugin: &str, inputs: &Json) -> Result<(), AwsError> {
    match inputs.get("runCommand") {
        Some(Json::String(_)) | Some(Json::Array(_)) => Ok(()),
        _ => Err(invalid_content(format!("runCommand is required in the inputs of {plugin}."))),
    }
}

/// Schema 2.x: `mainSteps`, each with `action`, `name` and `inputs`; names unique.
fn main_steps(steps: Option<&Json>) -> Result<Vec<Step>, AwsError> {
    let steps = match steps {
        Some(Json::Array(steps)) if !steps.is_empty() => steps,
        _ => return Err(invalid_content("mainSteps must list at least one step.")),
    };
    let mut out: Vec<Step> = Vec::new();
    for (index, step) in steps.iter().enumerate() {
        let field = |name: &str| step.get(name);
        let action = field("action").and_then(Json::as_str).ok_or_else(|| {
            invalid_content(format!("Step {} of mainSteps has no action.", index + 1))
        })?;
        let name = field("name").and_then(text).ok_or_else(|| {
            invalid_content(format!("Step {} of mainSteps has no name.", index + 1))
        })?;
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c)) {
            return Err(invalid_content(format!("Step name {name} is not valid.")));
        }
        if out.iter().any(|s| s.name == name) {
            return Err(invalid_content(format!("Duplicate step name {name} in mainSteps.")));
        }
        check_action(action)?;
        let inputs = field("inputs").cloned().unwrap_or(Json::Null);
        check_inputs(&name, &inputs)?;
        out.push(Step { name, action: action.to_string(), inputs });
    }
    Ok(out)
}

/// Schema 1.2: `runtimeConfig` maps each plugin action to its `properties`.
fn runtime_config(config: Option<&Json>) -> Result<Vec<Step>, AwsError> {
    let config = match config {
        Some(Json::Object(config)) if !config.is_empty() => config,
        _ => return Err(invalid_content("runtimeConfig must name at least one plugin.")),
    };
    let mut out = Vec::new();
    for (action, plugin) in config {
        check_action(action)?;
        let properties = plugin.get("properties").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default();
        let inputs = match properties {
            [one] => one.clone(),
            [] => return Err(invalid_content(format!("{action} has no properties."))),
            _ => return Err(not_emulated(format!("More than one properties entry for {action}"))),
        };
        check_inputs(action, &inputs)?;
        out.push(Step { name: action.clone(), action: action.clone(), inputs });
    }
    Ok(out)
}

/// Every `{{ name }}` in `value`, except references to other stores (`{{ssm:...}}`).
fn references(value: &Json, out: &mut Vec<String>) {
    match value {
        Json::String(s) => {
            let mut rest = s.as_str();
            while let Some(start) = rest.find("{{") {
                let after = &rest[start + 2..];
                let Some(end) = after.find("}}") else { break };
                let name = after[..end].trim();
                if !name.is_empty() && !name.contains(':') {
                    out.push(name.to_string());
                }
                rest = &after[end + 2..];
            }
        }
        Json::Array(items) => items.iter().for_each(|v| references(v, out)),
        Json::Object(map) => map.values().for_each(|v| references(v, out)),
        _ => {}
    }
}

fn check_references(inputs: &Json, parameters: &[DocumentParameter]) -> Result<(), AwsError> {
    let mut names = Vec::new();
    references(inputs, &mut names);
    match names.into_iter().find(|n| !parameters.iter().any(|p| &p.name == n)) {
        Some(name) => Err(invalid_content(format!("Parameter \"{name}\" is not declared."))),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Operations.

/// What `CreateDocument` was given, validated against the model by the handler.
#[derive(Debug, Clone, Default)]
pub struct NewDocument<'a> {
    pub name: &'a str,
    pub content: &'a str,
    pub document_type: Option<&'a str>,
    pub format: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub version_name: Option<&'a str>,
    pub target_type: Option<&'a str>,
    pub tags: Vec<(String, String)>,
}

fn reserved(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    ["aws", "amazon", "amzn"].iter().any(|p| lower.starts_with(p))
        || ["AWSEC2", "AWSConfigRemediation", "AWSSupport"].iter().any(|p| name.starts_with(p))
}

/// `CreateDocument`: IAM's `ssm:CreateDocument` on the new document, then SSM's checks.
pub fn create_document(world: &mut World, facts: RequestFacts<'_>, new: &NewDocument<'_>) -> Result<Document, AwsError> {
    let account = facts.caller.principal.account().to_string();
    let region = facts.region;
    authorize(world, facts, "ssm:CreateDocument", &document_arn(region, &account, new.name))?;
    if reserved(new.name) {
        return Err(ssm(
            "ValidationException",
            format!("Invalid document name {}: aws, amazon and amzn are reserved name prefixes.", new.name),
        ));
    }
    let document_type = new.document_type.unwrap_or("Command");
    if document_type != "Command" {
        return Err(not_emulated(format!("The document type {document_type} (wana runs Command documents)")));
    }
    if new.content.len() > MAX_CONTENT_BYTES {
        return Err(ssm("MaxDocumentSizeExceeded", "The size limit of a document is 64 KB."));
    }
    let format = new.format.unwrap_or("JSON");
    if format == "TEXT" {
        return Err(invalid_content("A Command document must be in JSON or YAML format."));
    }
    if state(world, &account, region).is_some_and(|s| s.documents.contains_key(new.name)) {
        return Err(ssm("DocumentAlreadyExists", format!("Document with same name {} already exists", new.name)));
    }
    let parsed = parse_content(new.content, format)?;
    let mut document = build(new.name, &account, facts.now, new.content, format, &parsed)?;
    document.display_name = new.display_name.map(str::to_string);
    document.version_name = new.version_name.map(str::to_string);
    document.target_type = new.target_type.map(str::to_string);
    document.tags = new.tags.clone();
    let ssm_state = state_mut(world, &account, region).ok_or_else(invalid_document)?;
    ssm_state.documents.insert(document.name.clone(), document.clone());
    Ok(document)
}

/// The document a name or ARN designates for `account` in `region`, without authorization.
pub fn find(world: &World, account: &str, region: &str, name_or_arn: &str) -> Option<Document> {
    let name = match name_or_arn.strip_prefix("arn:") {
        Some(_) => {
            let (prefix, name) = name_or_arn.split_once(":document/")?;
            let owner = prefix.rsplit(':').next()?;
            let expected = document_arn(region, account, name);
            let expected_prefix = expected.split_once(":document/").map(|(p, _)| p)?;
            if prefix != expected_prefix || (!owner.is_empty() && owner != account) {
                return None;
            }
            name
        }
        None => name_or_arn,
    };
    if is_built_in(name) {
        return Some(built_in());
    }
    state(world, account, region)?.documents.get(name).cloned()
}

/// The name a `Name` member designates (the last part of an ARN).
pub fn name_of(name_or_arn: &str) -> &str {
    name_or_arn.rsplit_once(":document/").map_or(name_or_arn, |(_, name)| name)
}

/// Only version 1 exists: `1`, `$LATEST` and `$DEFAULT` name it.
pub fn check_version(document: &Document, version: Option<&str>, version_name: Option<&str>) -> Result<(), AwsError> {
    let version_ok = matches!(version, None | Some("1" | "$LATEST" | "$DEFAULT"));
    let name_ok = version_name.is_none() || version_name == document.version_name.as_deref();
    if version_ok && name_ok {
        Ok(())
    } else {
        Err(invalid_document_version())
    }
}

/// `DescribeDocument`: IAM's `ssm:DescribeDocument` on the document, then the document.
pub fn describe_document(
    world: &mut World,
    facts: RequestFacts<'_>,
    name: &str,
    version: Option<&str>,
    version_name: Option<&str>,
) -> Result<Document, AwsError> {
    let account = facts.caller.principal.account().to_string();
    let region = facts.region;
    authorize(world, facts, "ssm:DescribeDocument", &document_arn(region, &account, name_of(name)))?;
    let document = find(world, &account, region, name).ok_or_else(invalid_document)?;
    check_version(&document, version, version_name)?;
    Ok(document)
}

/// `DeleteDocument`: IAM's `ssm:DeleteDocument`; AWS's own documents cannot be deleted
/// (`InvalidDocumentOperation`, text chosen). Commands already sent keep running.
pub fn delete_document(
    world: &mut World,
    facts: RequestFacts<'_>,
    name: &str,
    version: Option<&str>,
    version_name: Option<&str>,
) -> Result<(), AwsError> {
    let account = facts.caller.principal.account().to_string();
    let region = facts.region;
    authorize(world, facts, "ssm:DeleteDocument", &document_arn(region, &account, name))?;
    let document = find(world, &account, region, name).ok_or_else(invalid_document)?;
    if document.is_aws_owned() {
        return Err(ssm("InvalidDocumentOperation", "Only the owner of a document can delete it."));
    }
    check_version(&document, version, version_name)?;
    if let Some(ssm_state) = state_mut(world, &account, region) {
        ssm_state.documents.remove(name);
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// From a document and parameters to what the agent runs.

/// One plugin as the agent runs it: the script, where, and for how long.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PluginRun {
    /// The `PluginName` of its results.
    pub name: String,
    /// The `runCommand` lines, joined with newlines.
    pub script: String,
    pub working_directory: Option<String>,
    pub timeout_seconds: u64,
}

/// The value each declared parameter takes: the caller's, or the default. Unknown names,
/// missing required parameters, a String given several values, a value outside
/// `allowedValues`, fewer items than `minItems`, and AWS-RunShellScript's `executionTimeout`
/// outside 1..=172800 are `InvalidParameters`.
fn values(document: &Document, given: &[(String, Vec<String>)]) -> Result<Vec<(String, Json)>, AwsError> {
    let invalid = || invalid_parameters(&document.name);
    if given.iter().any(|(name, _)| !document.parameters.iter().any(|p| &p.name == name)) {
        return Err(invalid());
    }
    let mut out = Vec::new();
    for parameter in &document.parameters {
        let value = match given.iter().find(|(name, _)| name == &parameter.name) {
            Some((_, values)) if parameter.kind == "StringList" => {
                Json::Array(values.iter().cloned().map(Json::String).collect())
            }
            Some((_, values)) => match values.as_slice() {
                [one] => Json::String(one.clone()),
                _ => return Err(invalid()),
            },
            None => parameter.default.clone().ok_or_else(invalid)?,
        };
        let items: Vec<String> = match &value {
            Json::Array(items) => items.iter().filter_map(text).collect(),
            other => text(other).into_iter().collect(),
        };
        if parameter.min_items.is_some_and(|min| items.len() < min) {
            return Err(invalid());
        }
        if !parameter.allowed_values.is_empty() && items.iter().any(|v| !parameter.allowed_values.contains(v)) {
            return Err(invalid());
        }
        if document.name == RUN_SHELL_SCRIPT && parameter.name == "executionTimeout" {
            let seconds = items.first().and_then(|v| v.parse::<u64>().ok());
            if !seconds.is_some_and(|s| (1..=MAX_EXECUTION_TIMEOUT).contains(&s)) {
                return Err(invalid());
            }
        }
        out.push((parameter.name.clone(), value));
    }
    Ok(out)
}

/// Replaces `{{ name }}` references: a string that is one reference to a list becomes the list;
/// elsewhere a reference becomes the value's text (a list's items joined with commas).
fn substitute(value: &Json, values: &[(String, Json)]) -> Json {
    match value {
        Json::String(s) => {
            let trimmed = s.trim();
            if let Some(inner) = trimmed.strip_prefix("{{").and_then(|r| r.strip_suffix("}}")) {
                if !inner.contains("{{") {
                    if let Some((_, v)) = values.iter().find(|(n, _)| n == inner.trim()) {
                        return v.clone();
                    }
                }
            }
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(start) = rest.find("{{") {
                let after = &rest[start + 2..];
                let Some(end) = after.find("}}") else { break };
                out.push_str(&rest[..start]);
                match values.iter().find(|(n, _)| n == after[..end].trim()) {
                    Some((_, Json::Array(items))) => {
                        out.push_str(&items.iter().filter_map(text).collect::<Vec<_>>().join(","));
                    }
                    Some((_, v)) => out.push_str(&text(v).unwrap_or_default()),
                    None => out.push_str(&rest[start..start + 2 + end + 2]),
                }
                rest = &after[end + 2..];
            }
            out.push_str(rest);
            Json::String(out)
        }
        Json::Array(items) => Json::Array(items.iter().map(|v| substitute(v, values)).collect()),
        Json::Object(map) => Json::Object(map.iter().map(|(k, v)| (k.clone(), substitute(v, values))).collect()),
        other => other.clone(),
    }
}

/// The agent's reading of `timeoutSeconds`: a number or its text, within 5..=172800, else 3600.
fn execution_timeout(value: Option<&Json>) -> u64 {
    let seconds = match value {
        Some(Json::Number(n)) => n.as_u64(),
        Some(Json::String(s)) => s.trim().parse::<u64>().ok(),
        _ => None,
    };
    seconds
        .filter(|s| (MIN_EXECUTION_TIMEOUT..=MAX_EXECUTION_TIMEOUT).contains(s))
        .unwrap_or(DEFAULT_EXECUTION_TIMEOUT)
}

/// The plugins `SendCommand` will have the agent run, parameters resolved.
pub fn resolve(document: &Document, given: &[(String, Vec<String>)]) -> Result<Vec<PluginRun>, AwsError> {
    let values = values(document, given)?;
    Ok(document
        .steps
        .iter()
        .map(|step| {
            let inputs = substitute(&step.inputs, &values);
            let script = match inputs.get("runCommand") {
                Some(Json::Array(lines)) => lines.iter().map(|l| text(l).unwrap_or_default()).collect::<Vec<_>>().join("\n"),
                Some(other) => text(other).unwrap_or_default(),
                None => String::new(),
            };
            let working_directory = inputs.get("workingDirectory").and_then(text).filter(|d| !d.trim().is_empty());
            PluginRun {
                name: step.name.clone(),
                script,
                working_directory,
                timeout_seconds: execution_timeout(inputs.get("timeoutSeconds")),
            }
        })
        .collect())
}
