//! The creation order: every resource after the resources it depends on.

use std::collections::BTreeSet;

use super::{
    references::{collect_references, Reference},
    ResourceDecl, Template,
};
use crate::error::AwsError;

impl Template {
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
}
