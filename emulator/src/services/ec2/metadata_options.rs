//! Instance metadata options on the wire: RunInstances' and launch templates' `MetadataOptions`
//! (`InstanceMetadataOptionsRequest`, `LaunchTemplateInstanceMetadataOptionsRequest`),
//! ModifyInstanceMetadataOptions, and the `metadataOptions` block of an instance
//! (`InstanceMetadataOptionsResponse`: `state`, `httpTokens`, `httpPutResponseHopLimit`,
//! `httpEndpoint`, `httpProtocolIpv6`, `instanceMetadataTags`; botocore ec2 2016-11-15).
//!
//! Authorization: ModifyInstanceMetadataOptions is `ec2:ModifyInstanceMetadataOptions` on the
//! instance, with `ec2:Attribute` (the options the request names) and `ec2:Attribute/<Name>`
//! (their values), the keys of AWS's "Deny opt-out of IMDSv2" example policy; RunInstances adds
//! `ec2:MetadataHttpTokens`, `ec2:MetadataHttpPutResponseHopLimit` and `ec2:MetadataHttpEndpoint`
//! to the instance's authorization when the request (or its template) names them (EC2 User Guide,
//! "Example policies: work with instance metadata").
//!
//! The rule that a request naming `HttpTokens`, the hop limit or `HttpProtocolIpv6` must also set
//! `HttpEndpoint` to `enabled` is the EC2 User Guide's ("Modify instance metadata options for
//! existing instances": "When you specify a value for http-tokens, you must also set
//! http-endpoint to enabled", likewise for the hop limit and IPv6), and its error is AWS's:
//! `InvalidParameterValue` "The HttpEndpoint is not set to 'enabled' in this request. To specify
//! a value for HttpTokens, set HttpEndpoint to 'enabled'." (a ModifyInstanceMetadataOptions
//! CloudTrail record quoted in a public remediation tool's tests, found by code search). Chosen:
//! ModifyInstanceMetadataOptions enforces it as written; RunInstances and launch templates, whose
//! endpoint defaults to `enabled`, refuse only an explicit `HttpEndpoint=disabled` with the
//! others; the texts for the hop limit and IPv6 follow the HttpTokens one; bad values answer
//! EC2's "Value (x) for parameter <name> is invalid." with the parameter named as EC2 names
//! `iamInstanceProfile.name` (`metadataOptions.httpTokens` on a launch, `httpTokens` on a
//! modification), and a hop limit outside 1–64 adds "Expected a value between 1 and 64.".

use crate::{
    error::AwsError,
    state::{
        ec2::{
            self as model, HttpTokens, Instance, MetadataOptions, MetadataOptionsChange, OptionsState, Switch, HOP_LIMITS,
        },
        World,
    },
    value::Value,
};

use super::decode::{integer, required, text};
use super::{authorize, dry_run, instance_arn, Call};

// ---------------------------------------------------------------------------------------------
// Reading requests.

fn invalid(parameter: &str, given: &str) -> AwsError {
    AwsError::invalid_parameter_value(format!("Value ({given}) for parameter {parameter} is invalid."))
}

fn switch(params: &Value, member: &str, parameter: &str) -> Result<Option<Switch>, AwsError> {
    text(params, member).map(|given| Switch::from_name(given).ok_or_else(|| invalid(parameter, given))).transpose()
}

/// The metadata options a structure names. `prefix` is how EC2 names the structure in its
/// messages (`metadataOptions.` on a launch, empty for ModifyInstanceMetadataOptions).
pub(super) fn options_change(params: &Value, prefix: &str) -> Result<MetadataOptionsChange, AwsError> {
    let name = |member: &str| format!("{prefix}{member}");
    let http_tokens = text(params, "HttpTokens")
        .map(|given| HttpTokens::from_name(given).ok_or_else(|| invalid(&name("httpTokens"), given)))
        .transpose()?;
    let hop_limit = integer(params, "HttpPutResponseHopLimit")?;
    if let Some(limit) = hop_limit.filter(|limit| !HOP_LIMITS.contains(limit)) {
        return Err(AwsError::invalid_parameter_value(format!(
            "Value ({limit}) for parameter {} is invalid. Expected a value between {} and {}.",
            name("httpPutResponseHopLimit"),
            HOP_LIMITS.start(),
            HOP_LIMITS.end()
        )));
    }
    Ok(MetadataOptionsChange {
        http_tokens,
        http_put_response_hop_limit: hop_limit,
        http_endpoint: switch(params, "HttpEndpoint", &name("httpEndpoint"))?,
        http_protocol_ipv6: switch(params, "HttpProtocolIpv6", &name("httpProtocolIpv6"))?,
        instance_metadata_tags: switch(params, "InstanceMetadataTags", &name("instanceMetadataTags"))?,
    })
}

/// The options that need the endpoint, by the name the error gives them.
fn needing_the_endpoint(change: &MetadataOptionsChange) -> Option<&'static str> {
    if change.http_tokens.is_some() {
        Some("HttpTokens")
    } else if change.http_put_response_hop_limit.is_some() {
        Some("HttpPutResponseHopLimit")
    } else if change.http_protocol_ipv6.is_some() {
        Some("HttpProtocolIpv6")
    } else {
        None
    }
}

/// Refuses a change naming options that need the endpoint without enabling it: on a
/// modification the request must say `HttpEndpoint=enabled`; on a launch it must not say
/// `disabled` (see the module's notes).
fn check_endpoint(change: &MetadataOptionsChange, modification: bool) -> Result<(), AwsError> {
    let endpoint_ok = match change.http_endpoint {
        Some(endpoint) => endpoint.is_enabled(),
        None => !modification,
    };
    match needing_the_endpoint(change) {
        Some(option) if !endpoint_ok => Err(AwsError::invalid_parameter_value(format!(
            "The HttpEndpoint is not set to 'enabled' in this request. To specify a value for {option}, set HttpEndpoint to 'enabled'."
        ))),
        _ => Ok(()),
    }
}

/// RunInstances' (or its template's) `MetadataOptions`: the options the request names, checked.
pub(super) fn launch_options(params: &Value) -> Result<MetadataOptionsChange, AwsError> {
    let Some(options) = params.get("MetadataOptions") else {
        return Ok(MetadataOptionsChange::default());
    };
    let change = options_change(options, "metadataOptions.")?;
    check_endpoint(&change, false)?;
    Ok(change)
}

/// The condition keys a launch's options add to the instance's authorization.
pub(super) fn launch_context(change: &MetadataOptionsChange) -> Vec<(&'static str, String)> {
    let mut context = Vec::new();
    if let Some(tokens) = change.http_tokens {
        context.push(("ec2:MetadataHttpTokens", tokens.name().to_string()));
    }
    if let Some(limit) = change.http_put_response_hop_limit {
        context.push(("ec2:MetadataHttpPutResponseHopLimit", limit.to_string()));
    }
    if let Some(endpoint) = change.http_endpoint {
        context.push(("ec2:MetadataHttpEndpoint", endpoint.name().to_string()));
    }
    context
}

// ---------------------------------------------------------------------------------------------
// Output shapes.

/// `InstanceMetadataOptionsResponse`.
fn options_value(options: &MetadataOptions, state: OptionsState) -> Value {
    Value::structure()
        .with("state", state.name())
        .with("httpTokens", options.http_tokens.name())
        .with("httpPutResponseHopLimit", options.http_put_response_hop_limit)
        .with("httpEndpoint", options.http_endpoint.name())
        .with("httpProtocolIpv6", options.http_protocol_ipv6.name())
        .with("instanceMetadataTags", options.instance_metadata_tags.name())
}

/// An instance's `metadataOptions`, as DescribeInstances and RunInstances show it.
pub(super) fn instance_options_value(instance: &Instance) -> Value {
    let (options, state) = instance.metadata_options.shown();
    options_value(options, state)
}

/// A launch template's `metadataOptions` (`LaunchTemplateInstanceMetadataOptions`): the options
/// the template names.
pub(super) fn template_options_value(change: &MetadataOptionsChange) -> Value {
    Value::structure()
        .with_opt("httpTokens", change.http_tokens.map(HttpTokens::name))
        .with_opt("httpPutResponseHopLimit", change.http_put_response_hop_limit)
        .with_opt("httpEndpoint", change.http_endpoint.map(Switch::name))
        .with_opt("httpProtocolIpv6", change.http_protocol_ipv6.map(Switch::name))
        .with_opt("instanceMetadataTags", change.instance_metadata_tags.map(Switch::name))
}

/// A launch template's options as the RunInstances members they stand for.
pub(super) fn template_options_params(change: &MetadataOptionsChange) -> Value {
    Value::structure()
        .with_opt("HttpTokens", change.http_tokens.map(HttpTokens::name))
        .with_opt("HttpPutResponseHopLimit", change.http_put_response_hop_limit)
        .with_opt("HttpEndpoint", change.http_endpoint.map(Switch::name))
        .with_opt("HttpProtocolIpv6", change.http_protocol_ipv6.map(Switch::name))
        .with_opt("InstanceMetadataTags", change.instance_metadata_tags.map(Switch::name))
}

// ---------------------------------------------------------------------------------------------
// ModifyInstanceMetadataOptions.

/// `ec2:Attribute` and `ec2:Attribute/<Name>` for the options a modification names.
fn modification_context(change: &MetadataOptionsChange) -> Vec<(&'static str, String)> {
    let named: [(&'static str, &'static str, Option<String>); 5] = [
        ("HttpTokens", "ec2:Attribute/HttpTokens", change.http_tokens.map(|t| t.name().to_string())),
        (
            "HttpPutResponseHopLimit",
            "ec2:Attribute/HttpPutResponseHopLimit",
            change.http_put_response_hop_limit.map(|l| l.to_string()),
        ),
        ("HttpEndpoint", "ec2:Attribute/HttpEndpoint", change.http_endpoint.map(|s| s.name().to_string())),
        ("HttpProtocolIpv6", "ec2:Attribute/HttpProtocolIpv6", change.http_protocol_ipv6.map(|s| s.name().to_string())),
        (
            "InstanceMetadataTags",
            "ec2:Attribute/InstanceMetadataTags",
            change.instance_metadata_tags.map(|s| s.name().to_string()),
        ),
    ];
    let mut context = Vec::new();
    for (attribute, key, value) in named {
        if let Some(value) = value {
            context.push(("ec2:Attribute", attribute.to_string()));
            context.push((key, value));
        }
    }
    context
}

pub(super) fn modify_instance_metadata_options(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let instance_id = required(call.params, "InstanceId")?.to_string();
    let change = options_change(call.params, "")?;
    check_endpoint(&change, true)?;
    model::existing_instances(world, call.account(), call.region, std::slice::from_ref(&instance_id))?;
    let arn = instance_arn(call.region, call.account(), &instance_id);
    authorize(world, call, "ec2:ModifyInstanceMetadataOptions", &arn, modification_context(&change))?;
    dry_run(call)?;
    let options = model::modify_metadata_options(world, call.account(), call.region, &instance_id, &change, call.now)?;
    Ok(Value::structure()
        .with("instanceId", instance_id.as_str())
        .with("instanceMetadataOptions", options_value(&options, OptionsState::Pending)))
}
