//! CloudFormation templates: parsing (JSON and YAML, with YAML's short-form tags), the checks
//! CloudFormation makes before it creates anything, parameters, conditions, the creation order,
//! and the intrinsic functions.
//!
//! A template is kept as the JSON tree it parsed to (`serde_json` keeps member order here, so the
//! template order breaks ties in the creation order, as it reads in AWS's events). Resolving a
//! value against a [`Scope`] gives a [`Node`]. During validation, before any resource exists, a
//! reference to a resource resolves to [`Node::Unknown`], which every function passes through:
//! errors that only known values can reveal (an index past a list's end) are reported as early as
//! AWS reports them, and the rest when the resource is created.
//!
//! Error texts follow AWS's `ValidationError` messages. Confirmed from real CLI output:
//! "Template format error: JSON not well-formed. (line L, column C)", the YAML equivalent,
//! "Unresolved resource dependencies [X] in the Resources block of the template",
//! "Parameters: [X] must have values", "Parameters: [X] do not exist in the template",
//! "Parameter 'X' must be one of AllowedValues", "Every AllowedValues member must be a list.",
//! "instance of Fn::GetAtt references undefined resource X", "Invalid template resource property
//! 'X'", "Parameter values specified for a template which does not require them." and the Fn::Join
//! sentence. The other function errors follow the wording AWS-compatible implementations
//! (Eucalyptus) used; they are marked where they are raised.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use serde_json::{Map, Number, Value as Json};

use crate::error::AwsError;

/// `Template format error: …`, AWS's prefix for structural problems.
pub fn format_error(message: impl std::fmt::Display) -> AwsError {
    AwsError::validation(format!("Template format error: {message}"))
}

/// `Template error: …`, AWS's prefix for problems found while evaluating functions.
pub fn template_error(message: impl std::fmt::Display) -> AwsError {
    AwsError::validation(format!("Template error: {message}"))
}

fn unresolved(names: &[String], block: &str) -> AwsError {
    format_error(format!(
        "Unresolved resource dependencies [{}] in the {block} block of the template",
        names.join(", ")
    ))
}

const TOP_LEVEL: [&str; 10] = [
    "AWSTemplateFormatVersion",
    "Description",
    "Metadata",
    "Parameters",
    "Rules",
    "Mappings",
    "Conditions",
    "Transform",
    "Resources",
    "Outputs",
];

const RESOURCE_ATTRIBUTES: [&str; 10] = [
    "Type",
    "Properties",
    "DependsOn",
    "Condition",
    "DeletionPolicy",
    "UpdateReplacePolicy",
    "UpdatePolicy",
    "CreationPolicy",
    "Metadata",
    "Description",
];

/// The pseudo parameters `Ref` knows besides the template's own parameters.
pub const PSEUDO_PARAMETERS: [&str; 8] = [
    "AWS::AccountId",
    "AWS::NotificationARNs",
    "AWS::NoValue",
    "AWS::Partition",
    "AWS::Region",
    "AWS::StackId",
    "AWS::StackName",
    "AWS::URLSuffix",
];

const SUPPORTED_FUNCTIONS: &str = "[Fn::Base64, Fn::GetAtt, Fn::GetAZs, Fn::ImportValue, Fn::Join, Fn::Split, Fn::FindInMap, Fn::Select, Ref, Fn::Equals, Fn::If, Fn::Not, Condition, Fn::And, Fn::Or, Fn::Sub, Fn::Cidr]";

// ---------------------------------------------------------------------------------------------
// Parsing

/// Parses a template body into its JSON tree. A body whose first character is `{` is JSON (as
/// AWS decides); anything else is YAML, whose short-form tags become the long forms.
pub fn parse_body(body: &str) -> Result<Json, AwsError> {
    if body.trim_start().starts_with('{') {
        serde_json::from_str::<Json>(body)
            .map_err(|e| format_error(format!("JSON not well-formed. (line {}, column {})", e.line(), e.column())))
    } else {
        let yaml: serde_yaml::Value = serde_yaml::from_str(body).map_err(|e| {
            let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((1, 1));
            format_error(format!("YAML not well-formed. (line {line}, column {column})"))
        })?;
        yaml_to_json(yaml)
    }
}

/// YAML's short forms (`!Ref X`, `!GetAtt A.B`, `!Sub …`) are the long forms with a tag.
fn yaml_to_json(yaml: serde_yaml::Value) -> Result<Json, AwsError> {
    use serde_yaml::Value as Y;
    Ok(match yaml {
        Y::Null => Json::Null,
        Y::Bool(b) => Json::Bool(b),
        Y::Number(n) => yaml_number(&n),
        Y::String(s) => Json::String(s),
        Y::Sequence(items) => Json::Array(items.into_iter().map(yaml_to_json).collect::<Result<_, _>>()?),
        Y::Mapping(mapping) => {
            let mut map = Map::new();
            for (key, value) in mapping {
                let key = match key {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_string(),
                    _ => return Err(format_error("YAML not well-formed. (mapping keys must be scalars)")),
                };
                map.insert(key, yaml_to_json(value)?);
            }
            Json::Object(map)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!').to_string();
            let value = yaml_to_json(tagged.value)?;
            let (key, value) = match name.as_str() {
                "Ref" | "Condition" => (name, value),
                "GetAtt" => {
                    let value = match value {
                        Json::String(s) => match s.split_once('.') {
                            Some((resource, attribute)) => Json::Array(vec![resource.into(), attribute.into()]),
                            None => Json::String(s),
                        },
                        other => other,
                    };
                    ("Fn::GetAtt".to_string(), value)
                }
                _ => (format!("Fn::{name}"), value),
            };
            let mut map = Map::new();
            map.insert(key, value);
            Json::Object(map)
        }
    })
}

fn yaml_number(n: &serde_yaml::Number) -> Json {
    if let Some(i) = n.as_i64() {
        Json::Number(i.into())
    } else if let Some(u) = n.as_u64() {
        Json::Number(u.into())
    } else {
        n.as_f64().and_then(Number::from_f64).map(Json::Number).unwrap_or_else(|| Json::String(n.to_string()))
    }
}

/// A scalar of the template as CloudFormation reads it: numbers and booleans are text too.
fn scalar_text(value: &Json) -> Option<String> {
    match value {
        Json::String(s) => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        Json::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

// ---------------------------------------------------------------------------------------------
// The template

#[derive(Debug, Clone, PartialEq)]
pub struct ParameterDecl {
    pub name: String,
    pub type_name: String,
    pub default: Option<String>,
    pub allowed_values: Option<Vec<String>>,
    pub no_echo: bool,
    pub description: Option<String>,
}

impl ParameterDecl {
    /// `List<…>` and `CommaDelimitedList` parameters are lists of strings.
    pub fn is_list(&self) -> bool {
        self.type_name == "CommaDelimitedList" || self.type_name.starts_with("List<")
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResourceDecl {
    pub logical_id: String,
    pub type_name: String,
    /// An object, or `Null` when the template gives no properties.
    pub properties: Json,
    pub depends_on: Vec<String>,
    pub condition: Option<String>,
    pub deletion_policy: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OutputDecl {
    pub key: String,
    pub value: Json,
    pub description: Option<Json>,
    pub condition: Option<String>,
    pub export_name: Option<Json>,
}

/// A parsed template. Only [`Template::parse`] builds one.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub body: String,
    pub description: Option<String>,
    pub parameters: Vec<ParameterDecl>,
    pub mappings: Map<String, Json>,
    pub conditions: Vec<(String, Json)>,
    pub resources: Vec<ResourceDecl>,
    pub outputs: Vec<OutputDecl>,
}

/// Whether a resource type can be provisioned here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeSupport {
    Emulated,
    /// A real AWS type that wana does not provision yet.
    NotEmulated,
    Unknown,
}

/// What the template checks need to know about resource types.
pub trait Catalog {
    fn support(&self, type_name: &str) -> TypeSupport;
    fn has_attribute(&self, type_name: &str, attribute: &str) -> bool;
}

impl Template {
    /// Parses a body and checks its structure (sections, parameter and resource declarations).
    /// References and types are checked by [`Template::check`].
    pub fn parse(body: &str) -> Result<Template, AwsError> {
        let root = parse_body(body)?;
        let Json::Object(root) = root else {
            return Err(format_error("unsupported structure."));
        };
        let unknown: Vec<&str> = root.keys().map(String::as_str).filter(|k| !TOP_LEVEL.contains(k)).collect();
        if !unknown.is_empty() {
            return Err(format_error(format!("Invalid template property or properties [{}]", unknown.join(", "))));
        }
        if let Some(version) = root.get("AWSTemplateFormatVersion") {
            if scalar_text(version).as_deref() != Some("2010-09-09") {
                // Eucalyptus's wording of AWS's answer.
                return Err(format_error("unsupported value for AWSTemplateFormatVersion."));
            }
        }
        if let Some(transform) = root.get("Transform") {
            return Err(AwsError::validation(format!(
                "wana: template transforms are not emulated (Transform: {transform})"
            )));
        }
        let description = match root.get("Description") {
            None => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(_) => return Err(format_error("Every Description member must be a string.")),
        };
        let parameters = parse_parameters(root.get("Parameters"))?;
        let mappings = match root.get("Mappings") {
            None => Map::new(),
            Some(Json::Object(m)) => m.clone(),
            Some(_) => return Err(format_error("Every Mappings member must be a map")),
        };
        let conditions = match root.get("Conditions") {
            None => Vec::new(),
            Some(Json::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            Some(_) => return Err(format_error("Every Conditions member must be an object.")),
        };
        let resources = parse_resources(root.get("Resources"))?;
        let outputs = parse_outputs(root.get("Outputs"))?;
        Ok(Template { body: body.to_string(), description, parameters, mappings, conditions, resources, outputs })
    }

    pub fn resource(&self, logical_id: &str) -> Option<&ResourceDecl> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }

    pub fn parameter(&self, name: &str) -> Option<&ParameterDecl> {
        self.parameters.iter().find(|p| p.name == name)
    }

    fn is_condition(&self, name: &str) -> bool {
        self.conditions.iter().any(|(n, _)| n == name)
    }

    /// The checks AWS makes on a template before it looks at parameter values: resource types,
    /// references in every block, conditions, and cycles.
    pub fn check(&self, catalog: &dyn Catalog) -> Result<(), AwsError> {
        let unknown_types = unique(
            self.resources
                .iter()
                .filter(|r| catalog.support(&r.type_name) == TypeSupport::Unknown)
                .map(|r| r.type_name.clone()),
        );
        if !unknown_types.is_empty() {
            return Err(format_error(format!("Unrecognized resource types: [{}]", unknown_types.join(", "))));
        }
        let not_emulated = unique(
            self.resources
                .iter()
                .filter(|r| catalog.support(&r.type_name) == TypeSupport::NotEmulated)
                .map(|r| r.type_name.clone()),
        );
        if !not_emulated.is_empty() {
            return Err(AwsError::validation(format!(
                "wana does not emulate the resource type(s) [{}] yet",
                not_emulated.join(", ")
            )));
        }

        // Conditions may use parameters, pseudo parameters and other conditions only.
        for (_, expression) in &self.conditions {
            let mut refs = Vec::new();
            collect_references(expression, &mut refs);
            let bad = unique(refs.iter().filter_map(|r| match r {
                Reference::Ref(name) if !self.is_parameter_or_pseudo(name) => Some(name.clone()),
                Reference::GetAtt(name, _) => Some(name.clone()),
                _ => None,
            }));
            if !bad.is_empty() {
                return Err(format_error(format!(
                    "Unresolved dependencies [{}]. Cannot reference resources in the Conditions block of the template",
                    bad.join(", ")
                )));
            }
            self.check_condition_names(&refs)?;
        }

        let mut missing = Vec::new();
        for resource in &self.resources {
            if let Some(condition) = &resource.condition {
                if !self.is_condition(condition) {
                    return Err(format_error(format!(
                        "Unresolved condition dependencies [{condition}] in the Resources block of the template"
                    )));
                }
            }
            let mut refs = Vec::new();
            collect_references(&resource.properties, &mut refs);
            self.check_references(&refs, catalog, &mut missing)?;
            for target in &resource.depends_on {
                if self.resource(target).is_none() {
                    missing.push(target.clone());
                }
            }
        }
        let missing = unique(missing.into_iter());
        if !missing.is_empty() {
            return Err(unresolved(&missing, "Resources"));
        }

        let mut missing = Vec::new();
        for output in &self.outputs {
            if let Some(condition) = &output.condition {
                if !self.is_condition(condition) {
                    return Err(format_error(format!(
                        "Unresolved condition dependencies [{condition}] in the Outputs block of the template"
                    )));
                }
            }
            let mut refs = Vec::new();
            collect_references(&output.value, &mut refs);
            if let Some(export) = &output.export_name {
                collect_references(export, &mut refs);
            }
            self.check_references(&refs, catalog, &mut missing)?;
        }
        let missing = unique(missing.into_iter());
        if !missing.is_empty() {
            return Err(unresolved(&missing, "Outputs"));
        }

        self.creation_order().map(|_| ())
    }

    fn is_parameter_or_pseudo(&self, name: &str) -> bool {
        PSEUDO_PARAMETERS.contains(&name) || self.parameter(name).is_some()
    }

    fn check_condition_names(&self, refs: &[Reference]) -> Result<(), AwsError> {
        for r in refs {
            if let Reference::Condition(name) = r {
                if !self.is_condition(name) {
                    // Eucalyptus's wording.
                    return Err(template_error(format!("unresolved condition dependency {name} in Fn::If")));
                }
            }
        }
        Ok(())
    }

    fn check_references(
        &self,
        refs: &[Reference],
        catalog: &dyn Catalog,
        missing: &mut Vec<String>,
    ) -> Result<(), AwsError> {
        self.check_condition_names(refs)?;
        for r in refs {
            match r {
                Reference::Ref(name) => {
                    if !self.is_parameter_or_pseudo(name) && self.resource(name).is_none() {
                        missing.push(name.clone());
                    }
                }
                Reference::GetAtt(name, attribute) => {
                    let Some(resource) = self.resource(name) else {
                        return Err(template_error(format!(
                            "instance of Fn::GetAtt references undefined resource {name}"
                        )));
                    };
                    if let Some(attribute) = attribute {
                        if !catalog.has_attribute(&resource.type_name, attribute) {
                            return Err(template_error(format!(
                                "resource {name} does not support attribute type {attribute} in Fn::GetAtt"
                            )));
                        }
                    }
                }
                Reference::Condition(_) => {}
            }
        }
        Ok(())
    }

    /// The resources each resource needs first: its `Ref`, `Fn::GetAtt`, `Fn::Sub` targets and
    /// its `DependsOn`, in template order.
    pub fn dependencies(&self, resource: &ResourceDecl) -> Vec<String> {
        let mut refs = Vec::new();
        collect_references(&resource.properties, &mut refs);
        let mut deps = Vec::new();
        for r in refs {
            let name = match r {
                Reference::Ref(name) | Reference::GetAtt(name, _) => name,
                Reference::Condition(_) => continue,
            };
            if self.resource(&name).is_some() && !deps.contains(&name) {
                deps.push(name);
            }
        }
        for target in &resource.depends_on {
            if !deps.contains(target) {
                deps.push(target.clone());
            }
        }
        deps
    }

    /// Every resource after the ones it depends on; independent resources keep template order.
    pub fn creation_order(&self) -> Result<Vec<String>, AwsError> {
        let deps: Vec<(String, Vec<String>)> =
            self.resources.iter().map(|r| (r.logical_id.clone(), self.dependencies(r))).collect();
        let mut placed: Vec<String> = Vec::with_capacity(deps.len());
        let mut done = BTreeSet::new();
        while placed.len() < deps.len() {
            let next = deps.iter().find(|(name, needs)| !done.contains(name) && needs.iter().all(|n| done.contains(n)));
            match next {
                Some((name, _)) => {
                    done.insert(name.clone());
                    placed.push(name.clone());
                }
                None => {
                    let rest: Vec<String> =
                        deps.iter().filter(|(n, _)| !done.contains(n)).map(|(n, _)| n.clone()).collect();
                    return Err(AwsError::validation(format!(
                        "Circular dependency between resources: [{}]",
                        rest.join(", ")
                    )));
                }
            }
        }
        Ok(placed)
    }

    /// Matches the parameters a caller gave with the template's declarations.
    /// `previous` holds the values of the stack being updated, for `UsePreviousValue`.
    pub fn resolve_parameters(
        &self,
        given: &[GivenParameter],
        previous: &[(String, String)],
    ) -> Result<Vec<ResolvedParameter>, AwsError> {
        if self.parameters.is_empty() && !given.is_empty() {
            return Err(AwsError::validation("Parameter values specified for a template which does not require them."));
        }
        let extra = unique(given.iter().filter(|g| self.parameter(&g.key).is_none()).map(|g| g.key.clone()));
        if !extra.is_empty() {
            return Err(AwsError::validation(format!(
                "Parameters: [{}] do not exist in the template",
                extra.join(", ")
            )));
        }
        let mut resolved = Vec::new();
        let mut missing = Vec::new();
        for decl in &self.parameters {
            let value = match given.iter().find(|g| g.key == decl.name) {
                Some(g) if g.use_previous => match previous.iter().find(|(k, _)| k == &decl.name) {
                    Some((_, v)) => Some(v.clone()),
                    None => {
                        return Err(AwsError::validation(format!(
                            "Invalid input for parameter key {}. Cannot specify usePreviousValue as true for a parameter key not in the previous template",
                            decl.name
                        )))
                    }
                },
                Some(g) => g.value.clone(),
                None => decl.default.clone(),
            };
            let Some(value) = value else {
                missing.push(decl.name.clone());
                continue;
            };
            validate_parameter_value(decl, &value)?;
            let typed = if decl.is_list() {
                ParamValue::List(if value.is_empty() {
                    Vec::new()
                } else {
                    value.split(',').map(str::to_string).collect()
                })
            } else {
                ParamValue::Text(value.clone())
            };
            resolved.push(ResolvedParameter { key: decl.name.clone(), value, no_echo: decl.no_echo, typed });
        }
        if !missing.is_empty() {
            return Err(AwsError::validation(format!("Parameters: [{}] must have values", missing.join(", "))));
        }
        Ok(resolved)
    }
}

fn unique(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Logical ids and parameter names: ASCII letters and digits only.
fn is_alphanumeric(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric())
}

fn parse_parameters(section: Option<&Json>) -> Result<Vec<ParameterDecl>, AwsError> {
    let Some(section) = section else { return Ok(Vec::new()) };
    let Json::Object(section) = section else {
        return Err(format_error("Every Parameters member must be an object."));
    };
    let mut out = Vec::new();
    for (name, decl) in section {
        if !is_alphanumeric(name) {
            return Err(format_error(format!("Parameter name {name} is non alphanumeric.")));
        }
        let Json::Object(decl) = decl else {
            return Err(format_error("Any Parameters member must be a JSON object."));
        };
        let type_name = match decl.get("Type") {
            Some(Json::String(t)) => t.clone(),
            _ => {
                return Err(format_error(format!(
                    "[/Parameters/{name}] Every Parameters object must contain a Type member."
                )))
            }
        };
        if !is_parameter_type(&type_name) {
            return Err(format_error(format!("Unrecognized parameter type: {type_name}")));
        }
        if type_name.starts_with("AWS::SSM::Parameter") {
            return Err(AwsError::validation(format!(
                "wana: parameter type {type_name} needs Systems Manager parameters, which are not emulated yet"
            )));
        }
        let default = match decl.get("Default") {
            None => None,
            Some(Json::Array(items)) => Some(items.iter().filter_map(scalar_text).collect::<Vec<_>>().join(",")),
            Some(v) => Some(
                scalar_text(v)
                    .ok_or_else(|| format_error(format!("Default member of parameter {name} must be a string")))?,
            ),
        };
        let allowed_values = match decl.get("AllowedValues") {
            None => None,
            Some(Json::Array(items)) => Some(items.iter().filter_map(scalar_text).collect()),
            Some(_) => return Err(format_error("Every AllowedValues member must be a list.")),
        };
        let no_echo = decl.get("NoEcho").and_then(scalar_text).is_some_and(|v| v.eq_ignore_ascii_case("true"));
        let description = decl.get("Description").and_then(scalar_text);
        out.push(ParameterDecl { name: name.clone(), type_name, default, allowed_values, no_echo, description });
    }
    Ok(out)
}

fn is_parameter_type(t: &str) -> bool {
    let inner = t.strip_prefix("List<").and_then(|r| r.strip_suffix('>'));
    match inner {
        Some(inner) => inner == "Number" || (inner.starts_with("AWS::") && !inner.starts_with("AWS::SSM::")),
        None => matches!(t, "String" | "Number" | "CommaDelimitedList") || t.starts_with("AWS::"),
    }
}

fn validate_parameter_value(decl: &ParameterDecl, value: &str) -> Result<(), AwsError> {
    let numbers_only = decl.type_name == "Number" || decl.type_name == "List<Number>";
    if numbers_only {
        let all_numbers = value.split(',').all(|v| v.trim().parse::<f64>().is_ok());
        if !all_numbers || (decl.type_name == "Number" && value.is_empty()) {
            return Err(AwsError::validation(format!("Parameter '{}' must be a number.", decl.name)));
        }
    }
    if let Some(allowed) = &decl.allowed_values {
        let values: Vec<&str> = if decl.is_list() { value.split(',').collect() } else { vec![value] };
        if !values.iter().all(|v| allowed.iter().any(|a| a == v)) {
            return Err(AwsError::validation(format!("Parameter '{}' must be one of AllowedValues", decl.name)));
        }
    }
    Ok(())
}

fn parse_resources(section: Option<&Json>) -> Result<Vec<ResourceDecl>, AwsError> {
    let resources = match section {
        Some(Json::Object(m)) if !m.is_empty() => m,
        _ => return Err(format_error("At least one Resources member must be defined.")),
    };
    let mut out = Vec::new();
    for (logical_id, decl) in resources {
        if !is_alphanumeric(logical_id) {
            return Err(format_error(format!("Resource name {logical_id} is non alphanumeric.")));
        }
        let Json::Object(decl) = decl else {
            return Err(format_error(format!("[/Resources/{logical_id}] Every Resources object must be an object.")));
        };
        if let Some(bad) = decl.keys().find(|k| !RESOURCE_ATTRIBUTES.contains(&k.as_str())) {
            return Err(AwsError::validation(format!("Invalid template resource property '{bad}'")));
        }
        let type_name = match decl.get("Type") {
            Some(Json::String(t)) => t.clone(),
            _ => {
                return Err(format_error(format!(
                    "[/Resources/{logical_id}] Every Resources object must contain a Type member."
                )))
            }
        };
        let properties = match decl.get("Properties") {
            None | Some(Json::Null) => Json::Null,
            Some(p @ Json::Object(_)) => p.clone(),
            Some(_) => {
                return Err(format_error(format!(
                    "[/Resources/{logical_id}/Properties] Every Properties member must be an object."
                )))
            }
        };
        let depends_on = match decl.get("DependsOn") {
            None => Vec::new(),
            Some(Json::String(s)) => vec![s.clone()],
            Some(Json::Array(items)) => {
                items.iter().map(|i| i.as_str().map(str::to_string)).collect::<Option<Vec<_>>>().ok_or_else(|| {
                    format_error(format!(
                        "[/Resources/{logical_id}/DependsOn] DependsOn must be a string or list of strings."
                    ))
                })?
            }
            Some(_) => {
                return Err(format_error(format!(
                    "[/Resources/{logical_id}/DependsOn] DependsOn must be a string or list of strings."
                )))
            }
        };
        let condition = match decl.get("Condition") {
            None => None,
            Some(Json::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(format_error(format!("[/Resources/{logical_id}/Condition] Condition must be a string.")))
            }
        };
        let deletion_policy = match decl.get("DeletionPolicy") {
            None => None,
            Some(Json::String(s))
                if matches!(s.as_str(), "Delete" | "Retain" | "RetainExceptOnCreate" | "Snapshot") =>
            {
                Some(s.clone())
            }
            Some(other) => {
                return Err(format_error(format!(
                    "Unrecognized DeletionPolicy {} for resource {logical_id}",
                    scalar_text(other).unwrap_or_default()
                )))
            }
        };
        out.push(ResourceDecl {
            logical_id: logical_id.clone(),
            type_name,
            properties,
            depends_on,
            condition,
            deletion_policy,
        });
    }
    Ok(out)
}

fn parse_outputs(section: Option<&Json>) -> Result<Vec<OutputDecl>, AwsError> {
    let Some(section) = section else { return Ok(Vec::new()) };
    let Json::Object(section) = section else {
        return Err(format_error("Every Outputs member must be an object."));
    };
    let mut out = Vec::new();
    for (key, decl) in section {
        let Json::Object(decl) = decl else {
            return Err(format_error(format!("[/Outputs/{key}] Every Outputs member must be an object.")));
        };
        let Some(value) = decl.get("Value") else {
            return Err(format_error(format!("[/Outputs/{key}] Every Outputs member must contain a Value object")));
        };
        out.push(OutputDecl {
            key: key.clone(),
            value: value.clone(),
            description: decl.get("Description").cloned(),
            condition: decl.get("Condition").and_then(Json::as_str).map(str::to_string),
            export_name: decl.get("Export").and_then(|e| e.get("Name")).cloned(),
        });
    }
    Ok(out)
}

/// A parameter as the caller gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GivenParameter {
    pub key: String,
    pub value: Option<String>,
    pub use_previous: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ParamValue {
    Text(String),
    List(Vec<String>),
}

/// A parameter's value for one stack operation.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedParameter {
    pub key: String,
    /// The value as given (lists comma-separated), as DescribeStacks shows it.
    pub value: String,
    pub no_echo: bool,
    pub typed: ParamValue,
}

// ---------------------------------------------------------------------------------------------
// References

#[derive(Debug, Clone, PartialEq, Eq)]
enum Reference {
    Ref(String),
    /// A resource and, when it is a literal, the attribute.
    GetAtt(String, Option<String>),
    Condition(String),
}

/// Every reference in a tree, in document order. Both branches of `Fn::If` count, as they do for
/// AWS's dependency analysis.
fn collect_references(node: &Json, out: &mut Vec<Reference>) {
    match node {
        Json::Array(items) => items.iter().for_each(|i| collect_references(i, out)),
        Json::Object(map) if map.len() == 1 => {
            let (key, value) = map.iter().next().expect("one member");
            match key.as_str() {
                "Ref" => match value {
                    Json::String(name) => out.push(Reference::Ref(name.clone())),
                    other => collect_references(other, out),
                },
                "Fn::GetAtt" => match getatt_target(value) {
                    Some((resource, attribute)) => {
                        out.push(Reference::GetAtt(resource, attribute));
                        if let Json::Array(items) = value {
                            items.iter().skip(1).for_each(|i| collect_references(i, out));
                        }
                    }
                    None => collect_references(value, out),
                },
                "Fn::Sub" => {
                    let (text, vars) = match value {
                        Json::String(s) => (Some(s.as_str()), None),
                        Json::Array(items) => {
                            (items.first().and_then(Json::as_str), items.get(1).and_then(Json::as_object))
                        }
                        _ => (None, None),
                    };
                    if let Some(vars) = vars {
                        vars.values().for_each(|v| collect_references(v, out));
                    }
                    if let Some(text) = text {
                        for part in parse_sub(text) {
                            if let SubPart::Var(name) = part {
                                if vars.is_some_and(|v| v.contains_key(&name)) {
                                    continue;
                                }
                                match name.split_once('.') {
                                    Some((resource, attribute)) if !name.starts_with("AWS::") => {
                                        out.push(Reference::GetAtt(resource.to_string(), Some(attribute.to_string())))
                                    }
                                    _ => out.push(Reference::Ref(name)),
                                }
                            }
                        }
                    }
                }
                "Fn::If" => {
                    if let Json::Array(items) = value {
                        if let Some(Json::String(condition)) = items.first() {
                            out.push(Reference::Condition(condition.clone()));
                        }
                        items.iter().skip(1).for_each(|i| collect_references(i, out));
                    }
                }
                "Condition" => match value {
                    Json::String(name) => out.push(Reference::Condition(name.clone())),
                    other => collect_references(other, out),
                },
                _ => collect_references(value, out),
            }
        }
        Json::Object(map) => map.values().for_each(|v| collect_references(v, out)),
        _ => {}
    }
}

/// `["Res", "Attr"]` or `"Res.Attr"`.
fn getatt_target(value: &Json) -> Option<(String, Option<String>)> {
    match value {
        Json::Array(items) => {
            let resource = items.first()?.as_str()?.to_string();
            let attribute = items.get(1).and_then(Json::as_str).map(str::to_string);
            Some((resource, attribute))
        }
        Json::String(s) => {
            let (resource, attribute) = s.split_once('.')?;
            Some((resource.to_string(), Some(attribute.to_string())))
        }
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SubPart {
    Literal(String),
    Var(String),
}

/// Splits an `Fn::Sub` string: `${Name}` is a variable, `${!Text}` is the literal `${Text}`.
fn parse_sub(text: &str) -> Vec<SubPart> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        literal.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        if let Some(escaped) = after.strip_prefix('!') {
            literal.push_str("${");
            rest = escaped;
            continue;
        }
        match after.find('}') {
            Some(end) => {
                if !literal.is_empty() {
                    parts.push(SubPart::Literal(std::mem::take(&mut literal)));
                }
                parts.push(SubPart::Var(after[..end].trim().to_string()));
                rest = &after[end + 1..];
            }
            None => {
                literal.push_str("${");
                rest = after;
            }
        }
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        parts.push(SubPart::Literal(literal));
    }
    parts
}

// ---------------------------------------------------------------------------------------------
// Values and evaluation

/// A resolved value.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Null,
    Bool(bool),
    Num(Number),
    Str(String),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
    /// A value that depends on a resource not created yet (validation only).
    Unknown,
}

impl Node {
    /// A scalar as text: numbers and booleans are written as CloudFormation passes them on.
    pub fn text(&self) -> Option<String> {
        match self {
            Node::Str(s) => Some(s.clone()),
            Node::Num(n) => Some(n.to_string()),
            Node::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => entries.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(String, Node)] {
        match self {
            Node::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn as_list(&self) -> Option<&[Node]> {
        match self {
            Node::List(items) => Some(items),
            _ => None,
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Node::Unknown)
    }

    pub fn from_json(json: &Json) -> Node {
        match json {
            Json::Null => Node::Null,
            Json::Bool(b) => Node::Bool(*b),
            Json::Number(n) => Node::Num(n.clone()),
            Json::String(s) => Node::Str(s.clone()),
            Json::Array(items) => Node::List(items.iter().map(Node::from_json).collect()),
            Json::Object(map) => Node::Map(map.iter().map(|(k, v)| (k.clone(), Node::from_json(v))).collect()),
        }
    }

    pub fn to_json(&self) -> Json {
        match self {
            Node::Null | Node::Unknown => Json::Null,
            Node::Bool(b) => Json::Bool(*b),
            Node::Num(n) => Json::Number(n.clone()),
            Node::Str(s) => Json::String(s.clone()),
            Node::List(items) => Json::Array(items.iter().map(Node::to_json).collect()),
            Node::Map(entries) => Json::Object(entries.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }

    /// Compact JSON text, member order kept (policy documents, event properties).
    pub fn to_json_text(&self) -> String {
        self.to_json().to_string()
    }
}

/// What a resource reference resolves to.
#[derive(Debug, Clone, PartialEq)]
pub enum Lookup<T> {
    Found(T),
    /// The resource will exist but does not yet.
    Unknown,
    /// The resource's condition is false: it will not exist.
    Excluded,
}

/// Physical ids and attributes of a stack's resources.
pub trait Resources {
    fn physical_id(&self, logical_id: &str) -> Lookup<String>;
    fn attribute(&self, logical_id: &str, attribute: &str) -> Lookup<Node>;
}

/// The values behind the pseudo parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pseudo {
    pub account: String,
    pub region: String,
    pub stack_name: String,
    pub stack_id: String,
    pub notification_arns: Vec<String>,
}

impl Pseudo {
    pub fn partition(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    pub fn url_suffix(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        }
    }

    /// What `Fn::GetAZs` answers for a region: the zones the emulated EC2 has there.
    pub fn availability_zones(region: &str) -> Vec<String> {
        super::ec2::availability_zones(region)
    }
}

/// Everything a value of one stack operation may refer to.
pub struct Scope<'a> {
    pub template: &'a Template,
    pub pseudo: &'a Pseudo,
    pub parameters: BTreeMap<String, ParamValue>,
    pub conditions: BTreeMap<String, bool>,
    pub resources: &'a dyn Resources,
}

impl<'a> Scope<'a> {
    /// A scope with the template's conditions evaluated.
    pub fn new(
        template: &'a Template,
        pseudo: &'a Pseudo,
        parameters: &[ResolvedParameter],
        resources: &'a dyn Resources,
    ) -> Result<Scope<'a>, AwsError> {
        let mut scope = Scope {
            template,
            pseudo,
            parameters: parameters.iter().map(|p| (p.key.clone(), p.typed.clone())).collect(),
            conditions: BTreeMap::new(),
            resources,
        };
        for (name, _) in &template.conditions {
            let mut visiting = Vec::new();
            let value = scope.condition(name, &mut visiting)?;
            scope.conditions.insert(name.clone(), value);
        }
        Ok(scope)
    }

    /// Whether a resource (or output) with this condition exists in this operation.
    pub fn included(&self, condition: Option<&str>) -> bool {
        condition.is_none_or(|c| self.conditions.get(c).copied().unwrap_or(false))
    }

    fn condition(&self, name: &str, visiting: &mut Vec<String>) -> Result<bool, AwsError> {
        if let Some(value) = self.conditions.get(name) {
            return Ok(*value);
        }
        if visiting.iter().any(|v| v == name) {
            return Err(format_error(format!("Circular dependency between conditions: [{}]", visiting.join(", "))));
        }
        let Some((_, expression)) = self.template.conditions.iter().find(|(n, _)| n == name) else {
            return Err(template_error(format!("unresolved condition dependency {name} in Fn::If")));
        };
        visiting.push(name.to_string());
        let value = self.boolean(expression, visiting);
        visiting.pop();
        value
    }

    /// A condition expression: `Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`.
    fn boolean(&self, expression: &Json, visiting: &mut Vec<String>) -> Result<bool, AwsError> {
        let Some((function, args)) = single_member(expression) else {
            return match expression {
                Json::Bool(b) => Ok(*b),
                Json::String(s) if s.eq_ignore_ascii_case("true") || s.eq_ignore_ascii_case("false") => {
                    Ok(s.eq_ignore_ascii_case("true"))
                }
                _ => {
                    Err(template_error("Conditions can only be boolean operations on parameters and other conditions"))
                }
            };
        };
        let list = args.as_array();
        match function {
            "Condition" => match args {
                Json::String(name) => self.condition(name, visiting),
                _ => Err(template_error("All Conditions must be of type string")),
            },
            "Fn::Equals" => {
                let [a, b] = list.map(Vec::as_slice).unwrap_or(&[]) else {
                    return Err(template_error("Fn::Equals requires a list argument with two elements"));
                };
                let a = self.resolve(a)?;
                let b = self.resolve(b)?;
                Ok(match (a, b) {
                    (Some(a), Some(b)) => equal_values(&a, &b),
                    (None, None) => true,
                    _ => false,
                })
            }
            "Fn::Not" => {
                let [inner] = list.map(Vec::as_slice).unwrap_or(&[]) else {
                    return Err(template_error("Fn::Not requires a list argument with one element"));
                };
                Ok(!self.boolean(inner, visiting)?)
            }
            "Fn::And" | "Fn::Or" => {
                let items = list.filter(|l| (2..=10).contains(&l.len())).ok_or_else(|| {
                    template_error(format!(
                        "every {function} object requires a list of at least 2 and at most 10 boolean parameters."
                    ))
                })?;
                let mut result = function == "Fn::And";
                for item in items {
                    let value = self.boolean(item, visiting)?;
                    result = if function == "Fn::And" { result && value } else { result || value };
                }
                Ok(result)
            }
            _ => match self.resolve(expression)? {
                Some(Node::Bool(b)) => Ok(b),
                Some(Node::Str(s)) if s == "true" || s == "false" => Ok(s == "true"),
                _ => {
                    Err(template_error("Conditions can only be boolean operations on parameters and other conditions"))
                }
            },
        }
    }

    /// Resolves every intrinsic function in a value. `None` is `AWS::NoValue`: the member or
    /// list element it stood for disappears.
    pub fn resolve(&self, node: &Json) -> Result<Option<Node>, AwsError> {
        if let Some((function, args)) = single_member(node) {
            if function == "Ref" || function.starts_with("Fn::") {
                return self.function(function, args);
            }
        }
        Ok(Some(match node {
            Json::Object(map) => {
                let mut entries = Vec::with_capacity(map.len());
                for (key, value) in map {
                    if let Some(value) = self.resolve(value)? {
                        entries.push((key.clone(), value));
                    }
                }
                Node::Map(entries)
            }
            Json::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    if let Some(value) = self.resolve(item)? {
                        out.push(value);
                    }
                }
                Node::List(out)
            }
            other => Node::from_json(other),
        }))
    }

    /// A resource's properties, resolved (an empty map when it has none).
    pub fn properties(&self, resource: &ResourceDecl) -> Result<Node, AwsError> {
        match &resource.properties {
            Json::Null => Ok(Node::Map(Vec::new())),
            properties => Ok(self.resolve(properties)?.unwrap_or(Node::Map(Vec::new()))),
        }
    }

    /// The outputs whose condition holds, as (key, value, description, export name).
    pub fn outputs(&self) -> Result<Vec<ResolvedOutput>, AwsError> {
        let mut out = Vec::new();
        for output in &self.template.outputs {
            if !self.included(output.condition.as_deref()) {
                continue;
            }
            let Some(value) = self.resolve(&output.value)? else { continue };
            let text = match &value {
                Node::List(items) => items.iter().filter_map(Node::text).collect::<Vec<_>>().join(","),
                other => other.text().unwrap_or_else(|| other.to_json_text()),
            };
            let description = match &output.description {
                Some(d) => self.resolve(d)?.and_then(|d| d.text()),
                None => None,
            };
            let export_name = match &output.export_name {
                Some(e) => self.resolve(e)?.and_then(|e| e.text()),
                None => None,
            };
            out.push(ResolvedOutput { key: output.key.clone(), value: text, description, export_name });
        }
        Ok(out)
    }

    fn text_arg(&self, node: &Json, error: impl Fn() -> AwsError) -> Result<Option<String>, AwsError> {
        match self.resolve(node)? {
            Some(Node::Unknown) => Ok(None),
            Some(value) => value.text().map(Some).ok_or_else(error),
            None => Err(error()),
        }
    }

    fn function(&self, function: &str, args: &Json) -> Result<Option<Node>, AwsError> {
        match function {
            "Ref" => self.reference(args),
            "Fn::GetAtt" => self.get_att(args),
            "Fn::Join" => self.join(args),
            "Fn::Sub" => self.sub(args),
            "Fn::Select" => self.select(args),
            "Fn::Split" => self.split(args),
            "Fn::If" => self.if_(args),
            "Fn::Base64" => {
                let error = || template_error("every Fn::Base64 object must have a String-typed value.");
                Ok(Some(match self.text_arg(args, error)? {
                    Some(text) => Node::Str(base64::engine::general_purpose::STANDARD.encode(text.as_bytes())),
                    None => Node::Unknown,
                }))
            }
            "Fn::GetAZs" => {
                let error = || template_error("every Fn::GetAZs object must have a String-typed value.");
                Ok(Some(match self.text_arg(args, error)? {
                    Some(region) => {
                        let region = if region.is_empty() { self.pseudo.region.clone() } else { region };
                        Node::List(Pseudo::availability_zones(&region).into_iter().map(Node::Str).collect())
                    }
                    None => Node::Unknown,
                }))
            }
            "Fn::FindInMap" => self.find_in_map(args),
            "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" => {
                let expression: Json = Json::Object([(function.to_string(), args.clone())].into_iter().collect());
                Ok(Some(Node::Bool(self.boolean(&expression, &mut Vec::new())?)))
            }
            "Fn::ImportValue" | "Fn::Cidr" | "Fn::Transform" | "Fn::Length" | "Fn::ToJsonString" | "Fn::ForEach" => {
                Err(AwsError::validation(format!("wana: {function} is not emulated yet")))
            }
            other => Err(format_error(format!(
                "Encountered unsupported function: {other} Supported functions are: {SUPPORTED_FUNCTIONS}"
            ))),
        }
    }

    fn reference(&self, args: &Json) -> Result<Option<Node>, AwsError> {
        let Json::String(name) = args else {
            return Err(template_error("All References must be of type string"));
        };
        let pseudo = self.pseudo;
        Ok(Some(match name.as_str() {
            "AWS::NoValue" => return Ok(None),
            "AWS::AccountId" => Node::Str(pseudo.account.clone()),
            "AWS::Region" => Node::Str(pseudo.region.clone()),
            "AWS::StackName" => Node::Str(pseudo.stack_name.clone()),
            "AWS::StackId" => Node::Str(pseudo.stack_id.clone()),
            "AWS::Partition" => Node::Str(pseudo.partition().to_string()),
            "AWS::URLSuffix" => Node::Str(pseudo.url_suffix().to_string()),
            "AWS::NotificationARNs" => Node::List(pseudo.notification_arns.iter().cloned().map(Node::Str).collect()),
            _ => {
                if let Some(value) = self.parameters.get(name) {
                    match value {
                        ParamValue::Text(t) => Node::Str(t.clone()),
                        ParamValue::List(items) => Node::List(items.iter().cloned().map(Node::Str).collect()),
                    }
                } else {
                    match self.resources.physical_id(name) {
                        Lookup::Found(id) => Node::Str(id),
                        Lookup::Unknown => Node::Unknown,
                        Lookup::Excluded => return Err(unresolved(std::slice::from_ref(name), "Resources")),
                    }
                }
            }
        }))
    }

    fn get_att(&self, args: &Json) -> Result<Option<Node>, AwsError> {
        let error = || {
            template_error("every Fn::GetAtt object requires two non-empty parameters, the resource name and the resource attribute")
        };
        let (resource, attribute) = match args {
            Json::Array(items) if items.len() == 2 => {
                let resource = items[0].as_str().filter(|s| !s.is_empty()).ok_or_else(error)?;
                match self.text_arg(&items[1], error)? {
                    Some(attribute) => (resource.to_string(), attribute),
                    None => return Ok(Some(Node::Unknown)),
                }
            }
            Json::String(s) => match s.split_once('.') {
                Some((r, a)) if !r.is_empty() && !a.is_empty() => (r.to_string(), a.to_string()),
                _ => return Err(error()),
            },
            _ => return Err(error()),
        };
        if self.template.resource(&resource).is_none() {
            return Err(template_error(format!("instance of Fn::GetAtt references undefined resource {resource}")));
        }
        Ok(Some(match self.resources.attribute(&resource, &attribute) {
            Lookup::Found(value) => value,
            Lookup::Unknown => Node::Unknown,
            Lookup::Excluded => return Err(unresolved(&[resource], "Resources")),
        }))
    }

    fn join(&self, args: &Json) -> Result<Option<Node>, AwsError> {
        let error = || {
            template_error("every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined.")
        };
        let Json::Array(items) = args else { return Err(error()) };
        let [delimiter, list] = items.as_slice() else { return Err(error()) };
        let Some(delimiter) = self.text_arg(delimiter, error)? else { return Ok(Some(Node::Unknown)) };
        let list = match self.resolve(list)? {
            Some(Node::Unknown) => return Ok(Some(Node::Unknown)),
            Some(Node::List(items)) => items,
            _ => return Err(error()),
        };
        let mut texts = Vec::with_capacity(list.len());
        for item in &list {
            if item.is_unknown() {
                return Ok(Some(Node::Unknown));
            }
            texts.push(item.text().ok_or_else(error)?);
        }
        Ok(Some(Node::Str(texts.join(&delimiter))))
    }

    fn sub(&self, args: &Json) -> Result<Option<Node>, AwsError> {
        // Eucalyptus's wording.
        let error = || {
            template_error("One or more Fn::Sub intrinsic functions don't specify expected arguments. Specify a string as first argument, and an optional second argument to specify a mapping of values to replace in the string")
        };
        let (text, vars) = match args {
            Json::String(s) => (s.as_str(), None),
            Json::Array(items) if items.len() == 2 => {
                (items[0].as_str().ok_or_else(error)?, Some(items[1].as_object().ok_or_else(error)?))
            }
            _ => return Err(error()),
        };
        let mut out = String::new();
        for part in parse_sub(text) {
            let name = match part {
                SubPart::Literal(l) => {
                    out.push_str(&l);
                    continue;
                }
                SubPart::Var(name) => name,
            };
            let value = match vars.and_then(|v| v.get(&name)) {
                Some(expression) => self.resolve(expression)?,
                None => match name.split_once('.') {
                    Some((resource, attribute)) if !name.starts_with("AWS::") => {
                        let args = Json::Array(vec![resource.into(), attribute.into()]);
                        self.get_att(&args)?
                    }
                    _ => self.reference(&Json::String(name.clone()))?,
                },
            };
            match value {
                Some(Node::Unknown) => return Ok(Some(Node::Unknown)),
                Some(v) => match v.text() {
                    Some(t) => out.push_str(&t),
                    None => return Err(template_error("every variable in an Fn::Sub object must reference a string")),
                },
                None => return Err(template_error("every variable in an Fn::Sub object must reference a string")),
            }
        }
        Ok(Some(Node::Str(out)))
    }

    fn select(&self, args: &Json) -> Result<Option<Node>, AwsError> {
        let index_error =
            || template_error("Fn::Select requires a list argument with a valid index value as its first element");
        let list_error =
            || template_error("Fn::Select requires a list argument with two elements: an integer index and a list");
        let Json::Array(items) = args else { return Err(index_error()) };
        let [index, list] = items.as_slice() else { return Err(list_error()) };
        let Some(index) = self.text_arg(index, index_error)? else { return Ok(Some(Node::Unknown)) };
        let index: i64 = index.trim().parse().map_err(|_| index_error())?;
        let list = match self.resolve(list)? {
            Some(Node::Unknown) => return Ok(Some(Node::Unknown)),
            Some(Node::List(items)) => items,
            _ => return Err(list_error()),
        };
        usize::try_from(index)
            .ok()
            .and_then(|i| list.get(i).cloned())
            .map(Some)
            .ok_or_else(|| template_error(format!("Fn::Select cannot select nonexistent value at index {index}")))
    }

    fn split(&self, args: &Json) -> Result<Option<Node>, AwsError> {
        let error = || {
            template_error("every Fn::Split object requires two parameters, (1) a string delimiter and (2) a string to be split or a function that returns a string to be split.")
        };
        let Json::Array(items) = args else { return Err(error()) };
        let [delimiter, source] = items.as_slice() else { return Err(error()) };
        let Some(delimiter) = self.text_arg(delimiter, error)? else { return Ok(Some(Node::Unknown)) };
        let Some(source) = self.text_arg(source, error)? else { return Ok(Some(Node::Unknown)) };
        if delimiter.is_empty() {
            return Err(error());
        }
        Ok(Some(Node::List(source.split(delimiter.as_str()).map(|s| Node::Str(s.to_string())).collect())))
    }

    fn if_(&self, args: &Json) -> Result<Option<Node>, AwsError> {
        let Json::Array(items) = args else {
            return Err(template_error("Fn::If requires a list argument with the first element being a condition"));
        };
        let Some(Json::String(condition)) = items.first() else {
            return Err(template_error("Fn::If requires a list argument with the first element being a condition"));
        };
        if items.len() != 3 {
            return Err(template_error("Fn::If requires a list argument with three elements"));
        }
        let value = self
            .conditions
            .get(condition)
            .copied()
            .ok_or_else(|| template_error(format!("unresolved condition dependency {condition} in Fn::If")))?;
        self.resolve(&items[if value { 1 } else { 2 }])
    }

    fn find_in_map(&self, args: &Json) -> Result<Option<Node>, AwsError> {
        let error = || {
            template_error("every Fn::FindInMap object requires three parameters, the map name, map key and the attribute for return value")
        };
        let Json::Array(items) = args else { return Err(error()) };
        let [map, key, attribute] = items.as_slice() else { return Err(error()) };
        let (Some(map), Some(key), Some(attribute)) =
            (self.text_arg(map, error)?, self.text_arg(key, error)?, self.text_arg(attribute, error)?)
        else {
            return Ok(Some(Node::Unknown));
        };
        let Some(mapping) = self.template.mappings.get(&map) else {
            return Err(template_error(format!(
                "Mapping named '{map}' is not present in the 'Mappings' section of template"
            )));
        };
        mapping
            .get(&key)
            .and_then(|m| m.get(&attribute))
            .map(|v| Some(Node::from_json(v)))
            .ok_or_else(|| template_error(format!("Unable to get mapping for {map}::{key}::{attribute}")))
    }
}

/// An output as DescribeStacks shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedOutput {
    pub key: String,
    pub value: String,
    pub description: Option<String>,
    pub export_name: Option<String>,
}

/// `Fn::Equals` compares values as CloudFormation does: scalars by their text.
fn equal_values(a: &Node, b: &Node) -> bool {
    match (a.text(), b.text()) {
        (Some(a), Some(b)) => a == b,
        _ => a == b,
    }
}

/// `{"Fn::X": args}`: an object with a single member.
fn single_member(node: &Json) -> Option<(&str, &Json)> {
    match node {
        Json::Object(map) if map.len() == 1 => map.iter().next().map(|(k, v)| (k.as_str(), v)),
        _ => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The template of the source report (seed 000), byte for byte.
    pub(crate) const REPORT_EC2_JSON: &str = r#"{
  "AWSTemplateFormatVersion": "2010-09-09",
  "Outputs": {
    "InstanceID" : {
      "Value" : { "Ref" : "Ec2Instance" }
    },
    "RecoveryAlarm" : {
      "Value" : { "Ref" : "RecoveryAlarm" }
    }
  },
  "Resources": {
    "Ec2Instance" : {
      "Type" : "AWS::EC2::Instance",
      "Properties" : {
        "ImageId" : "ami-374db956",
        "InstanceType" : "t2.micro",
        "BlockDeviceMappings" : [
          {
            "DeviceName": "/dev/xvda",
            "Ebs": {
              "VolumeType": "gp2",
              "VolumeSize": "8"
            }
          }
        ]
      }
    },
    "RecoveryAlarm": {
      "Type": "AWS::CloudWatch::Alarm",
      "Properties": {
        "Namespace": "AWS/EC2" ,
        "MetricName": "StatusCheckFailed",
        "Statistic": "Minimum",
        "Period": "60",
        "EvaluationPeriods": "5",
        "ComparisonOperator": "GreaterThanThreshold",
        "Threshold": "0",
        "AlarmActions": [ {"Fn::Join" : ["", ["arn:aws:automate:", { "Ref" : "AWS::Region" }, ":ec2:recover" ]]} ],
        "Dimensions": [{"Name": "InstanceId","Value": {"Ref": "Ec2Instance"}}]
      }
    }
  }
}
"#;

    const REPORT_EC2_YAML: &str = r#"
AWSTemplateFormatVersion: 2010-09-09
Outputs:
  InstanceID:
    Value: !Ref Ec2Instance
  RecoveryAlarm:
    Value: !Ref RecoveryAlarm
Resources:
  Ec2Instance:
    Type: AWS::EC2::Instance
    Properties:
      ImageId: ami-374db956
      InstanceType: t2.micro
      BlockDeviceMappings:
        - DeviceName: /dev/xvda
          Ebs:
            VolumeType: gp2
            VolumeSize: 8
  RecoveryAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/EC2
      MetricName: StatusCheckFailed
      Statistic: Minimum
      Period: 60
      EvaluationPeriods: 5
      ComparisonOperator: GreaterThanThreshold
      Threshold: 0
      AlarmActions:
        - !Sub arn:${AWS::Partition}:automate:${AWS::Region}:ec2:recover
      Dimensions:
        - Name: InstanceId
          Value: !Ref Ec2Instance
"#;

    struct TestCatalog;

    impl Catalog for TestCatalog {
        fn support(&self, type_name: &str) -> TypeSupport {
            match type_name {
                "AWS::EC2::Instance" | "AWS::CloudWatch::Alarm" | "AWS::IAM::Role" => TypeSupport::Emulated,
                "AWS::S3::Bucket" => TypeSupport::NotEmulated,
                _ => TypeSupport::Unknown,
            }
        }

        fn has_attribute(&self, type_name: &str, attribute: &str) -> bool {
            match type_name {
                "AWS::EC2::Instance" => ["AvailabilityZone", "PrivateIp", "PrivateDnsName"].contains(&attribute),
                "AWS::IAM::Role" => ["Arn", "RoleId"].contains(&attribute),
                "AWS::CloudWatch::Alarm" => attribute == "Arn",
                _ => false,
            }
        }
    }

    /// Resources that exist with made-up physical ids, or do not exist yet.
    struct Fixed(Vec<(&'static str, &'static str)>);

    impl Resources for Fixed {
        fn physical_id(&self, logical_id: &str) -> Lookup<String> {
            // `Prod` of the FUNCTIONS template has a condition that is false.
            if logical_id == "Prod" {
                return Lookup::Excluded;
            }
            match self.0.iter().find(|(l, _)| *l == logical_id) {
                Some((_, p)) => Lookup::Found(p.to_string()),
                None => Lookup::Unknown,
            }
        }

        fn attribute(&self, logical_id: &str, attribute: &str) -> Lookup<Node> {
            match self.physical_id(logical_id) {
                Lookup::Found(p) => Lookup::Found(Node::Str(format!("{p}.{attribute}"))),
                other => other.map_unknown(),
            }
        }
    }

    impl Lookup<String> {
        fn map_unknown(self) -> Lookup<Node> {
            match self {
                Lookup::Found(_) | Lookup::Unknown => Lookup::Unknown,
                Lookup::Excluded => Lookup::Excluded,
            }
        }
    }

    fn pseudo() -> Pseudo {
        Pseudo {
            account: "111111111111".into(),
            region: "ap-northeast-1".into(),
            stack_name: "ec2-recoveryalarm-user".into(),
            stack_id: "arn:aws:cloudformation:ap-northeast-1:111111111111:stack/ec2-recoveryalarm-user/x".into(),
            notification_arns: vec![],
        }
    }

    fn message(result: Result<impl std::fmt::Debug, AwsError>) -> String {
        let error = result.expect_err("an error");
        assert_eq!(error.code, "ValidationError");
        error.message
    }

    fn resolve_in(
        template: &Template,
        parameters: &[GivenParameter],
        resources: &Fixed,
        json: &str,
    ) -> Result<Option<Node>, AwsError> {
        let pseudo = pseudo();
        let parameters = template.resolve_parameters(parameters, &[])?;
        let scope = Scope::new(template, &pseudo, &parameters, resources)?;
        scope.resolve(&serde_json::from_str(json).unwrap())
    }

    #[test]
    fn the_report_template_parses_orders_and_resolves() {
        let template = Template::parse(REPORT_EC2_JSON).unwrap();
        template.check(&TestCatalog).unwrap();
        assert_eq!(template.creation_order().unwrap(), vec!["Ec2Instance", "RecoveryAlarm"]);
        assert_eq!(template.dependencies(template.resource("RecoveryAlarm").unwrap()), vec!["Ec2Instance"]);

        let pseudo = pseudo();
        let created = Fixed(vec![("Ec2Instance", "i-0abc")]);
        let scope = Scope::new(&template, &pseudo, &[], &created).unwrap();
        let alarm = scope.properties(template.resource("RecoveryAlarm").unwrap()).unwrap();
        assert_eq!(alarm.get("Period"), Some(&Node::Str("60".into())));
        assert_eq!(
            alarm.get("AlarmActions"),
            Some(&Node::List(vec![Node::Str("arn:aws:automate:ap-northeast-1:ec2:recover".into())]))
        );
        assert_eq!(
            alarm.get("Dimensions").unwrap().as_list().unwrap()[0].get("Value"),
            Some(&Node::Str("i-0abc".into()))
        );
        let outputs =
            Scope::new(&template, &pseudo, &[], &Fixed(vec![("Ec2Instance", "i-0abc"), ("RecoveryAlarm", "alarm-1")]))
                .unwrap()
                .outputs()
                .unwrap();
        assert_eq!(
            outputs.iter().map(|o| (o.key.as_str(), o.value.as_str())).collect::<Vec<_>>(),
            vec![("InstanceID", "i-0abc"), ("RecoveryAlarm", "alarm-1")]
        );
    }

    #[test]
    fn the_yaml_version_with_short_tags_means_the_same() {
        let template = Template::parse(REPORT_EC2_YAML).unwrap();
        template.check(&TestCatalog).unwrap();
        assert_eq!(template.creation_order().unwrap(), vec!["Ec2Instance", "RecoveryAlarm"]);
        let pseudo = pseudo();
        let created = Fixed(vec![("Ec2Instance", "i-0abc")]);
        let scope = Scope::new(&template, &pseudo, &[], &created).unwrap();
        let alarm = scope.properties(template.resource("RecoveryAlarm").unwrap()).unwrap();
        assert_eq!(alarm.get("Period").and_then(Node::text), Some("60".into()));
        assert_eq!(alarm.get("Threshold").and_then(Node::text), Some("0".into()));
        assert_eq!(
            alarm.get("AlarmActions").unwrap().as_list().unwrap()[0],
            Node::Str("arn:aws:automate:ap-northeast-1:ec2:recover".into())
        );
        let instance = scope.properties(template.resource("Ec2Instance").unwrap()).unwrap();
        let ebs = instance.get("BlockDeviceMappings").unwrap().as_list().unwrap()[0].get("Ebs").unwrap().clone();
        assert_eq!(ebs.get("VolumeSize").and_then(Node::text), Some("8".into()));
    }

    #[test]
    fn yaml_tags_become_long_forms() {
        let json = parse_body("A: !GetAtt Role.Arn\nB: !Select [0, !GetAZs '']\nC: !If [Cond, !Ref X, !Ref AWS::NoValue]\nD: !Condition Cond\n").unwrap();
        assert_eq!(json["A"], serde_json::json!({"Fn::GetAtt": ["Role", "Arn"]}));
        assert_eq!(json["B"], serde_json::json!({"Fn::Select": [0, {"Fn::GetAZs": ""}]}));
        assert_eq!(json["C"], serde_json::json!({"Fn::If": ["Cond", {"Ref": "X"}, {"Ref": "AWS::NoValue"}]}));
        assert_eq!(json["D"], serde_json::json!({"Condition": "Cond"}));
    }

    const FUNCTIONS: &str = r#"{
      "Parameters": {
        "Env": {"Type": "String", "AllowedValues": ["prod", "dev"], "Default": "dev"},
        "Subnets": {"Type": "CommaDelimitedList", "Default": "s-1,s-2,s-3"},
        "Size": {"Type": "Number", "Default": "8"}
      },
      "Mappings": {"Ami": {"ap-northeast-1": {"Id": "ami-123"}}},
      "Conditions": {
        "IsProd": {"Fn::Equals": [{"Ref": "Env"}, "prod"]},
        "IsDev": {"Fn::Not": [{"Condition": "IsProd"}]},
        "Both": {"Fn::And": [{"Condition": "IsDev"}, {"Fn::Equals": ["8", {"Ref": "Size"}]}]},
        "Either": {"Fn::Or": [{"Condition": "IsProd"}, {"Condition": "Both"}]}
      },
      "Resources": {
        "Role": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {}}},
        "Prod": {"Type": "AWS::IAM::Role", "Condition": "IsProd", "Properties": {"AssumeRolePolicyDocument": {}}}
      }
    }"#;

    #[test]
    fn intrinsic_functions_resolve() {
        let template = Template::parse(FUNCTIONS).unwrap();
        template.check(&TestCatalog).unwrap();
        let created = Fixed(vec![("Role", "my-role")]);
        let cases: &[(&str, Node)] = &[
            (
                r#"{"Fn::Sub": "${AWS::StackName}-${Role}-${Role.Arn}-${!Literal}"}"#,
                Node::Str("ec2-recoveryalarm-user-my-role-my-role.Arn-${Literal}".into()),
            ),
            (r#"{"Fn::Sub": ["${A}/${AWS::AccountId}", {"A": {"Ref": "Env"}}]}"#, Node::Str("dev/111111111111".into())),
            (r#"{"Fn::Join": [",", {"Ref": "Subnets"}]}"#, Node::Str("s-1,s-2,s-3".into())),
            (r#"{"Fn::Select": ["1", {"Ref": "Subnets"}]}"#, Node::Str("s-2".into())),
            (r#"{"Fn::Select": [0, {"Fn::GetAZs": ""}]}"#, Node::Str("ap-northeast-1a".into())),
            (r#"{"Fn::Select": [2, {"Fn::Split": ["/", "a/b/c"]}]}"#, Node::Str("c".into())),
            (r#"{"Fn::GetAtt": ["Role", "Arn"]}"#, Node::Str("my-role.Arn".into())),
            (r#"{"Fn::GetAtt": "Role.RoleId"}"#, Node::Str("my-role.RoleId".into())),
            (r#"{"Fn::If": ["IsProd", "p", "d"]}"#, Node::Str("d".into())),
            (r#"{"Fn::If": ["Either", "yes", "no"]}"#, Node::Str("yes".into())),
            (r#"{"Fn::Base64": "hello"}"#, Node::Str("aGVsbG8=".into())),
            (r#"{"Fn::FindInMap": ["Ami", {"Ref": "AWS::Region"}, "Id"]}"#, Node::Str("ami-123".into())),
            (r#"{"Ref": "AWS::Partition"}"#, Node::Str("aws".into())),
            (r#"{"Ref": "AWS::URLSuffix"}"#, Node::Str("amazonaws.com".into())),
            (
                r#"[1, {"Ref": "AWS::NoValue"}, {"Fn::If": ["IsProd", "x", {"Ref": "AWS::NoValue"}]}]"#,
                Node::List(vec![Node::Num(1.into())]),
            ),
        ];
        for (json, expected) in cases {
            assert_eq!(resolve_in(&template, &[], &created, json).unwrap().as_ref(), Some(expected), "{json}");
        }
        // Before the role exists, everything built from it is unknown, not an error.
        let nothing = Fixed(vec![]);
        assert_eq!(
            resolve_in(&template, &[], &nothing, r#"{"Fn::Join": ["", ["a", {"Fn::GetAtt": ["Role", "Arn"]}]]}"#)
                .unwrap(),
            Some(Node::Unknown)
        );
    }

    #[test]
    fn function_errors_use_aws_texts() {
        let template = Template::parse(FUNCTIONS).unwrap();
        let created = Fixed(vec![("Role", "my-role")]);
        let cases = [
            (r#"{"Fn::Select": [5, {"Ref": "Subnets"}]}"#, "Template error: Fn::Select cannot select nonexistent value at index 5"),
            (r#"{"Fn::Join": [","]}"#, "Template error: every Fn::Join object requires two parameters, (1) a string delimiter and (2) a list of strings to be joined or a function that returns a list of strings (such as Fn::GetAZs) to be joined."),
            (r#"{"Fn::FindInMap": ["Ami", "us-east-1", "Id"]}"#, "Template error: Unable to get mapping for Ami::us-east-1::Id"),
            (r#"{"Ref": "Prod"}"#, "Template format error: Unresolved resource dependencies [Prod] in the Resources block of the template"),
            (r#"{"Fn::GetAtt": ["Nope", "Arn"]}"#, "Template error: instance of Fn::GetAtt references undefined resource Nope"),
        ];
        for (json, expected) in cases {
            assert_eq!(message(resolve_in(&template, &[], &created, json)), expected, "{json}");
        }
        assert!(message(resolve_in(&template, &[], &created, r#"{"Fn::Foo": 1}"#)).starts_with(
            "Template format error: Encountered unsupported function: Fn::Foo Supported functions are: ["
        ));
    }

    #[test]
    fn parameters_are_checked_like_aws() {
        let template = Template::parse(
            r#"{"Parameters": {"A": {"Type": "String"}, "B": {"Type": "String"}, "N": {"Type": "Number", "Default": "1"},
                "E": {"Type": "String", "Default": "x", "AllowedValues": ["x", "y"]}},
               "Resources": {"R": {"Type": "AWS::IAM::Role"}}}"#,
        )
        .unwrap();
        let given = |k: &str, v: &str| GivenParameter { key: k.into(), value: Some(v.into()), use_previous: false };
        assert_eq!(message(template.resolve_parameters(&[], &[])), "Parameters: [A, B] must have values");
        assert_eq!(
            message(template.resolve_parameters(&[given("A", "1"), given("B", "2"), given("Z", "3")], &[])),
            "Parameters: [Z] do not exist in the template"
        );
        assert_eq!(
            message(template.resolve_parameters(&[given("A", "1"), given("B", "2"), given("E", "z")], &[])),
            "Parameter 'E' must be one of AllowedValues"
        );
        assert_eq!(
            message(template.resolve_parameters(&[given("A", "1"), given("B", "2"), given("N", "x")], &[])),
            "Parameter 'N' must be a number."
        );
        let ok = template.resolve_parameters(&[given("A", "1"), given("B", "2")], &[]).unwrap();
        assert_eq!(ok.iter().map(|p| p.value.as_str()).collect::<Vec<_>>(), vec!["1", "2", "1", "x"]);
        let none = Template::parse(r#"{"Resources": {"R": {"Type": "AWS::IAM::Role"}}}"#).unwrap();
        assert_eq!(
            message(none.resolve_parameters(&[given("A", "1")], &[])),
            "Parameter values specified for a template which does not require them."
        );
    }

    #[test]
    fn structural_errors_use_aws_texts() {
        let cases = [
            ("{\n  \"Resources\": {,\n}", "Template format error: JSON not well-formed. (line 2, column 17)"),
            ("Resources:\n  A: [\n", "Template format error: YAML not well-formed. (line 3, column 1)"),
            (r#"{"Parameters": {}}"#, "Template format error: At least one Resources member must be defined."),
            (r#"{"Resource": {}}"#, "Template format error: Invalid template property or properties [Resource]"),
            (
                r#"{"Resources": {"A": {"Type": "AWS::IAM::Role", "Propertes": {}}}}"#,
                "Invalid template resource property 'Propertes'",
            ),
            (
                r#"{"Parameters": {"E": {"Type": "String", "AllowedValues": "x"}}, "Resources": {"A": {"Type": "X"}}}"#,
                "Template format error: Every AllowedValues member must be a list.",
            ),
            (
                r#"{"Resources": {"My-Role": {"Type": "AWS::IAM::Role"}}}"#,
                "Template format error: Resource name My-Role is non alphanumeric.",
            ),
        ];
        for (body, expected) in cases {
            assert_eq!(message(Template::parse(body)), expected, "{body}");
        }
    }

    #[test]
    fn reference_and_type_errors_use_aws_texts() {
        let check = |body: &str| Template::parse(body).and_then(|t| t.check(&TestCatalog));
        let cases = [
            (r#"{"Resources": {"A": {"Type": "AWS::Foo::Bar"}, "B": {"Type": "AWS::Foo::Baz"}}}"#, "Template format error: Unrecognized resource types: [AWS::Foo::Bar, AWS::Foo::Baz]"),
            (r#"{"Resources": {"A": {"Type": "AWS::IAM::Role", "Properties": {"X": {"Ref": "Missing"}}}}}"#, "Template format error: Unresolved resource dependencies [Missing] in the Resources block of the template"),
            (r#"{"Resources": {"A": {"Type": "AWS::IAM::Role", "DependsOn": "Gone"}}}"#, "Template format error: Unresolved resource dependencies [Gone] in the Resources block of the template"),
            (r#"{"Resources": {"A": {"Type": "AWS::IAM::Role", "Properties": {"X": {"Fn::Sub": "${Nope}"}}}}}"#, "Template format error: Unresolved resource dependencies [Nope] in the Resources block of the template"),
            (r#"{"Resources": {"A": {"Type": "AWS::IAM::Role"}}, "Outputs": {"O": {"Value": {"Ref": "B"}}}}"#, "Template format error: Unresolved resource dependencies [B] in the Outputs block of the template"),
            (r#"{"Resources": {"A": {"Type": "AWS::IAM::Role", "Properties": {"X": {"Fn::GetAtt": ["A", "Nope"]}}}}}"#, "Template error: resource A does not support attribute type Nope in Fn::GetAtt"),
            (r#"{"Resources": {"A": {"Type": "AWS::IAM::Role", "Properties": {"X": {"Fn::GetAtt": ["B", "Arn"]}}}, "B": {"Type": "AWS::IAM::Role", "DependsOn": "A"}}}"#, "Circular dependency between resources: [A, B]"),
            (r#"{"Resources": {"A": {"Type": "AWS::IAM::Role", "Properties": {"X": {"Ref": "A"}}}}}"#, "Circular dependency between resources: [A]"),
            (r#"{"Conditions": {"C": {"Fn::Equals": [{"Ref": "A"}, "x"]}}, "Resources": {"A": {"Type": "AWS::IAM::Role"}}}"#, "Template format error: Unresolved dependencies [A]. Cannot reference resources in the Conditions block of the template"),
            (r#"{"Resources": {"A": {"Type": "AWS::S3::Bucket"}}}"#, "wana does not emulate the resource type(s) [AWS::S3::Bucket] yet"),
        ];
        for (body, expected) in cases {
            assert_eq!(message(check(body)), expected, "{body}");
        }
    }

    #[test]
    fn sub_strings_split_into_literals_and_variables() {
        assert_eq!(
            parse_sub("a${B}c${!D}${ E.F }"),
            vec![
                SubPart::Literal("a".into()),
                SubPart::Var("B".into()),
                SubPart::Literal("c${D}".into()),
                SubPart::Var("E.F".into()),
            ]
        );
        assert_eq!(parse_sub("${unterminated"), vec![SubPart::Literal("${unterminated".into())]);
    }
}
