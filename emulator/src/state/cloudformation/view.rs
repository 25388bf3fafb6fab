//! Looking resources up while resolving: the stack's resources as `Ref` and `Fn::GetAtt` see
//! them during an operation, or before any exists (validation and the dry run).

use std::collections::BTreeSet;

use super::StackResource;
use crate::{
    error::AwsError,
    template::{Lookup, Node, Pseudo, ResolvedParameter, Resources, Scope, Template},
};

/// The stack's resources as `Ref` and `Fn::GetAtt` see them during an operation.
pub(super) struct View<'a> {
    pub(super) resources: &'a [StackResource],
    pub(super) included: &'a BTreeSet<String>,
}

impl Resources for View<'_> {
    fn physical_id(&self, logical_id: &str) -> Lookup<String> {
        if !self.included.contains(logical_id) {
            return Lookup::Excluded;
        }
        match self.resources.iter().find(|r| r.logical_id == logical_id && r.is_live()) {
            Some(r) => r.physical_id.clone().map(Lookup::Found).unwrap_or(Lookup::Unknown),
            None => Lookup::Unknown,
        }
    }

    fn attribute(&self, logical_id: &str, attribute: &str) -> Lookup<Node> {
        if !self.included.contains(logical_id) {
            return Lookup::Excluded;
        }
        match self.resources.iter().find(|r| r.logical_id == logical_id && r.is_live()) {
            Some(r) => Lookup::Found(
                r.attributes
                    .iter()
                    .find(|(k, _)| k == attribute)
                    .map(|(_, v)| v.clone())
                    .unwrap_or(Node::Str(String::new())),
            ),
            None => Lookup::Unknown,
        }
    }
}

/// Resources of a template, none created yet: what validation resolves against.
pub struct NotYetCreated<'a> {
    pub included: &'a BTreeSet<String>,
}

impl Resources for NotYetCreated<'_> {
    fn physical_id(&self, logical_id: &str) -> Lookup<String> {
        if self.included.contains(logical_id) {
            Lookup::Unknown
        } else {
            Lookup::Excluded
        }
    }

    fn attribute(&self, logical_id: &str, _attribute: &str) -> Lookup<Node> {
        if self.included.contains(logical_id) {
            Lookup::Unknown
        } else {
            Lookup::Excluded
        }
    }
}

/// The resources whose condition holds with these parameters.
pub fn included_resources(
    template: &Template,
    pseudo: &Pseudo,
    parameters: &[ResolvedParameter],
) -> Result<BTreeSet<String>, AwsError> {
    let all: BTreeSet<String> = template.resources.iter().map(|r| r.logical_id.clone()).collect();
    let view = NotYetCreated { included: &all };
    let scope = Scope::new(template, pseudo, parameters, &view)?;
    Ok(template
        .resources
        .iter()
        .filter(|r| scope.included(r.condition.as_deref()))
        .map(|r| r.logical_id.clone())
        .collect())
}

/// Everything CreateStack and UpdateStack can find wrong before any resource exists: conditions,
/// references to conditionally excluded resources, and functions whose arguments are known.
pub fn dry_run(template: &Template, pseudo: &Pseudo, parameters: &[ResolvedParameter]) -> Result<(), AwsError> {
    let included = included_resources(template, pseudo, parameters)?;
    let view = NotYetCreated { included: &included };
    let scope = Scope::new(template, pseudo, parameters, &view)?;
    for resource in template.resources.iter().filter(|r| included.contains(&r.logical_id)) {
        scope.properties(resource)?;
    }
    scope.outputs().map(|_| ())
}

pub(super) fn contains_unknown(node: &Node) -> bool {
    match node {
        Node::Unknown => true,
        Node::List(items) => items.iter().any(contains_unknown),
        Node::Map(entries) => entries.iter().any(|(_, v)| contains_unknown(v)),
        _ => false,
    }
}
