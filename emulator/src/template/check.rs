//! The checks CloudFormation makes on a template before it creates anything (resource types,
//! references in every block, conditions, cycles), and the matching of the caller's parameter
//! values with the template's declarations.

use super::{
    format_error,
    references::{collect_references, Reference},
    template_error, unresolved, Catalog, GivenParameter, ParamValue, ParameterDecl, ResolvedParameter, Template,
    TypeSupport, PSEUDO_PARAMETERS,
};
use crate::error::AwsError;

impl Template {
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
