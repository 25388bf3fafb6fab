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
//!
//! The engine knows nothing of the emulator's state: `Fn::GetAZs` answers the zones every region
//! has (`crate::accounts::availability_zones`, which EC2 reads too).

mod check;
mod intrinsics;
mod order;
mod parse;
mod references;
mod resolve;
#[cfg(test)]
pub(crate) mod tests;

pub use parse::parse_body;
pub use resolve::{Lookup, Node, Pseudo, ResolvedOutput, Resources, Scope};

use serde_json::{Map, Value as Json};

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
    pub fn resource(&self, logical_id: &str) -> Option<&ResourceDecl> {
        self.resources.iter().find(|r| r.logical_id == logical_id)
    }

    pub fn parameter(&self, name: &str) -> Option<&ParameterDecl> {
        self.parameters.iter().find(|p| p.name == name)
    }

    fn is_condition(&self, name: &str) -> bool {
        self.conditions.iter().any(|(n, _)| n == name)
    }
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
