//! Values and evaluation: the resolved [`Node`], what references see ([`Resources`], [`Pseudo`]),
//! and the [`Scope`] that evaluates conditions and resolves values and outputs.

use std::collections::BTreeMap;

use serde_json::{Number, Value as Json};

use super::{format_error, template_error, ParamValue, ResolvedParameter, ResourceDecl, Template};
use crate::error::AwsError;

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
        crate::accounts::availability_zones(region)
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
    pub(super) fn boolean(&self, expression: &Json, visiting: &mut Vec<String>) -> Result<bool, AwsError> {
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
