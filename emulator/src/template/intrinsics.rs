//! The intrinsic functions (`Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`, `Fn::Select`, …) and
//! the pseudo parameters `Ref` answers.

use base64::Engine as _;
use serde_json::Value as Json;

use super::{
    format_error,
    references::{parse_sub, SubPart},
    template_error, unresolved, Lookup, Node, ParamValue, Pseudo, Scope,
};
use crate::error::AwsError;

const SUPPORTED_FUNCTIONS: &str = "[Fn::Base64, Fn::GetAtt, Fn::GetAZs, Fn::ImportValue, Fn::Join, Fn::Split, Fn::FindInMap, Fn::Select, Ref, Fn::Equals, Fn::If, Fn::Not, Condition, Fn::And, Fn::Or, Fn::Sub, Fn::Cidr]";

impl Scope<'_> {
    fn text_arg(&self, node: &Json, error: impl Fn() -> AwsError) -> Result<Option<String>, AwsError> {
        match self.resolve(node)? {
            Some(Node::Unknown) => Ok(None),
            Some(value) => value.text().map(Some).ok_or_else(error),
            None => Err(error()),
        }
    }

    pub(super) fn function(&self, function: &str, args: &Json) -> Result<Option<Node>, AwsError> {
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
