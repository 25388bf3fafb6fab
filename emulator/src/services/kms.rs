//! KMS on the wire (awsJson 1.1, `X-Amz-Target: TrentService.<Operation>`): members in, the
//! operation of `crate::state::kms`, the output structure back. Blobs arrive as base64 strings
//! and leave as [`Value::Blob`]; encryption contexts are JSON objects.

use base64::Engine;

use crate::{
    error::AwsError,
    state::{
        kms::{self, errors, EncryptionContext, Grant, GrantConstraints, Key, NewGrant, NewKey},
        World,
    },
    validation,
    value::Value,
};

use super::Call;

pub fn handle(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    let tokens = match Input(call.params).strings("GrantTokens") {
        Ok(tokens) => tokens,
        Err(error) => return Some(Err(error)),
    };
    kms::with_grant_tokens(world, tokens, |world| handle_action(world, call))
}

fn handle_action(world: &mut World, call: &Call<'_>) -> Option<Result<Value, AwsError>> {
    let facts = call.facts();
    let input = Input(call.params);
    Some(match call.action {
        "CreateKey" => create_key(world, call, &input),
        "DescribeKey" => input
            .key_id()
            .and_then(|key_id| kms::describe_key(world, facts, key_id))
            .map(|key| Value::structure().with("KeyMetadata", key_metadata(&key))),
        "ListKeys" => list_keys(world, call, &input),
        "GetKeyPolicy" => get_key_policy(world, call, &input),
        "PutKeyPolicy" => put_key_policy(world, call, &input),
        "CreateAlias" => (|| {
            kms::create_alias(world, facts, input.required("AliasName", "aliasName")?, input.required("TargetKeyId", "targetKeyId")?)
        })()
        .map(|()| Value::structure()),
        "DeleteAlias" => input
            .required("AliasName", "aliasName")
            .and_then(|name| kms::delete_alias(world, facts, name))
            .map(|()| Value::structure()),
        "ListAliases" => list_aliases(world, call, &input),
        "TagResource" => (|| {
            let tags = input.tags()?.ok_or_else(|| errors::missing("tags"))?;
            kms::tag_resource(world, facts, input.key_id()?, tags)
        })()
        .map(|()| Value::structure()),
        "UntagResource" => (|| {
            if input.0.get("TagKeys").is_none() {
                return Err(errors::missing("tagKeys"));
            }
            kms::untag_resource(world, facts, input.key_id()?, &input.strings("TagKeys")?)
        })()
        .map(|()| Value::structure()),
        "ListResourceTags" => list_resource_tags(world, call, &input),
        "EnableKey" | "DisableKey" => {
            let enabled = call.action == "EnableKey";
            input.key_id().and_then(|key_id| kms::set_key_enabled(world, facts, key_id, enabled)).map(|()| Value::structure())
        }
        "ScheduleKeyDeletion" => schedule_key_deletion(world, call, &input),
        "CancelKeyDeletion" => input
            .key_id()
            .and_then(|key_id| kms::cancel_key_deletion(world, facts, key_id))
            .map(|key| Value::structure().with("KeyId", key.arn)),
        "Encrypt" => encrypt(world, call, &input),
        "Decrypt" => decrypt(world, call, &input),
        "GenerateDataKey" => generate_data_key(world, call, &input, true),
        "GenerateDataKeyWithoutPlaintext" => generate_data_key(world, call, &input, false),
        "ReEncrypt" => re_encrypt(world, call, &input),
        "CreateGrant" => create_grant(world, call, &input),
        "ListGrants" => list_grants(world, call, &input),
        "RetireGrant" => kms::retire_grant(
            world,
            facts,
            input.string("GrantToken"),
            input.string("KeyId"),
            input.string("GrantId"),
        )
        .map(|()| Value::structure()),
        "RevokeGrant" => (|| kms::revoke_grant(world, facts, input.key_id()?, input.required("GrantId", "grantId")?))()
            .map(|()| Value::structure()),
        _ => return None,
    })
}

/// Typed reads of the request members, with KMS's validation errors.
struct Input<'a>(&'a Value);

impl<'a> Input<'a> {
    fn string(&self, name: &str) -> Option<&'a str> {
        self.0.get(name).and_then(Value::as_str)
    }

    /// `member` is the lower-camel name KMS's validation messages use.
    fn required(&self, name: &str, member: &str) -> Result<&'a str, AwsError> {
        match self.0.get(name) {
            Some(Value::Str(s)) => Ok(s),
            Some(_) => Err(serialization_error()),
            None => Err(errors::missing(member)),
        }
    }

    fn key_id(&self) -> Result<&'a str, AwsError> {
        self.required("KeyId", "keyId")
    }

    fn bool(&self, name: &str) -> Result<bool, AwsError> {
        match self.0.get(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(serialization_error()),
        }
    }

    fn int(&self, name: &str) -> Result<Option<i64>, AwsError> {
        match self.0.get(name) {
            None => Ok(None),
            Some(Value::Int(i)) => Ok(Some(*i)),
            Some(_) => Err(serialization_error()),
        }
    }

    fn blob(&self, name: &str, member: &str) -> Result<Vec<u8>, AwsError> {
        let text = self.required(name, member)?;
        base64::engine::general_purpose::STANDARD.decode(text).map_err(|_| serialization_error())
    }

    fn strings(&self, name: &str) -> Result<Vec<String>, AwsError> {
        match self.0.get(name) {
            None => Ok(Vec::new()),
            Some(Value::List(items)) => items
                .iter()
                .map(|v| v.as_str().map(str::to_string).ok_or_else(serialization_error))
                .collect(),
            Some(_) => Err(serialization_error()),
        }
    }

    /// `Tags`: `[{TagKey, TagValue}]`; `None` when absent.
    fn tags(&self) -> Result<Option<Vec<(String, String)>>, AwsError> {
        match self.0.get("Tags") {
            None => Ok(None),
            Some(Value::List(items)) => items
                .iter()
                .enumerate()
                .map(|(index, item)| {
                    let member = |name: &str| format!("tags.{}.member.{name}", index + 1);
                    let key = item.get("TagKey").and_then(Value::as_str).ok_or_else(|| errors::missing(&member("tagKey")))?;
                    let value = item.get("TagValue").and_then(Value::as_str).ok_or_else(|| errors::missing(&member("tagValue")))?;
                    Ok((key.to_string(), value.to_string()))
                })
                .collect::<Result<Vec<_>, AwsError>>()
                .map(Some),
            Some(_) => Err(serialization_error()),
        }
    }

    fn context(&self, name: &str) -> Result<EncryptionContext, AwsError> {
        self.0.get(name).map(context_of).transpose().map(Option::unwrap_or_default)
    }
}

/// A JSON object of strings, as an encryption context.
fn context_of(value: &Value) -> Result<EncryptionContext, AwsError> {
    match value {
        Value::Struct(fields) | Value::Map(fields) => fields
            .iter()
            .map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())).ok_or_else(serialization_error))
            .collect(),
        _ => Err(serialization_error()),
    }
}

fn context_value(context: &EncryptionContext) -> Value {
    Value::Map(context.iter().map(|(k, v)| (k.clone(), Value::from(v))).collect())
}

/// A member of the wrong JSON type, as the JSON front end answers it.
fn serialization_error() -> AwsError {
    AwsError::new("SerializationException", 400, "")
}

pub fn key_metadata(key: &Key) -> Value {
    Value::structure()
        .with("AWSAccountId", key.account.as_str())
        .with("KeyId", key.id.as_str())
        .with("Arn", key.arn.as_str())
        .with("CreationDate", key.created)
        .with("Enabled", key.enabled())
        .with("Description", key.description.as_str())
        .with("KeyUsage", key.key_usage.as_str())
        .with("KeyState", key.state.as_str())
        .with_opt("DeletionDate", key.deletion_date)
        .with("Origin", "AWS_KMS")
        .with("KeyManager", key.manager.as_str())
        .with("CustomerMasterKeySpec", key.key_spec.as_str())
        .with("KeySpec", key.key_spec.as_str())
        .with("EncryptionAlgorithms", Value::List(vec!["SYMMETRIC_DEFAULT".into()]))
        .with("MultiRegion", false)
}

fn create_key(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let tags = input.tags()?.unwrap_or_default();
    let spec = NewKey {
        description: input.string("Description"),
        key_usage: input.string("KeyUsage"),
        key_spec: input.string("KeySpec").or_else(|| input.string("CustomerMasterKeySpec")),
        policy: input.string("Policy"),
        bypass_policy_lockout_safety_check: input.bool("BypassPolicyLockoutSafetyCheck")?,
        tags,
    };
    let key = kms::create_key(world, call.facts(), spec)?;
    Ok(Value::structure().with("KeyMetadata", key_metadata(&key)))
}

/// How many items a page of a list operation holds: `default` without `Limit`, and at most
/// `most` whatever `Limit` says (the model's bounds are 1 to 1000 for every operation; the API
/// reference gives ListKeys 1 to 1000, default 100, ListAliases 1 to 100, default 50, and
/// ListGrants 1 to 100, default 50, ListResourceTags 1 to 50, default 50). Chosen: a `Limit` within the model's bounds but above
/// an operation's own is served as that operation's most, since "KMS does not return more than
/// the specified number of items, but it might return fewer".
#[derive(Clone, Copy)]
struct PageSize {
    default: i64,
    most: i64,
}

const LIST_KEYS_PAGE: PageSize = PageSize { default: 100, most: 1000 };
const LIST_ALIASES_PAGE: PageSize = PageSize { default: 50, most: 100 };
const LIST_RESOURCE_TAGS_PAGE: PageSize = PageSize { default: 50, most: 50 };
const LIST_GRANTS_PAGE: PageSize = PageSize { default: 50, most: 100 };

/// `Limit` and `Marker` over an already complete list: the marker is the index to go on from.
fn page<T>(items: Vec<T>, input: &Input<'_>, size: PageSize) -> Result<(Vec<T>, Option<String>), AwsError> {
    let limit = input.int("Limit")?.unwrap_or(size.default);
    if !(1..=1000).contains(&limit) {
        let bound = if limit < 1 { "greater than or equal to 1" } else { "less than or equal to 1000" };
        return Err(errors::validation(validation::one(
            "limit",
            Some(&limit.to_string()),
            &format!("Member must have value {bound}"),
        )));
    }
    let start = match input.string("Marker") {
        None => 0,
        Some(marker) => marker.parse::<usize>().ok().filter(|&n| n <= items.len()).ok_or_else(errors::invalid_marker)?,
    };
    let limit = limit.min(size.most) as usize;
    let end = (start + limit).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    Ok((items.into_iter().skip(start).take(end - start).collect(), next))
}

fn with_page(output: Value, next: Option<String>) -> Value {
    let truncated = next.is_some();
    output.with_opt("NextMarker", next).with("Truncated", truncated)
}

fn list_keys(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let keys = kms::list_keys(world, call.facts())?;
    let (keys, next) = page(keys, input, LIST_KEYS_PAGE)?;
    let keys: Value = keys
        .into_iter()
        .map(|(id, arn)| Value::structure().with("KeyId", id).with("KeyArn", arn))
        .collect();
    Ok(with_page(Value::structure().with("Keys", keys), next))
}

fn get_key_policy(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let name = input.string("PolicyName");
    let policy = kms::get_key_policy(world, call.facts(), input.key_id()?, name)?;
    Ok(Value::structure().with("Policy", policy).with("PolicyName", name.unwrap_or(kms::DEFAULT_POLICY_NAME)))
}

fn put_key_policy(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    kms::put_key_policy(
        world,
        call.facts(),
        input.key_id()?,
        input.string("PolicyName"),
        input.required("Policy", "policy")?,
        input.bool("BypassPolicyLockoutSafetyCheck")?,
    )?;
    Ok(Value::structure())
}

fn list_resource_tags(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let tags = kms::list_resource_tags(world, call.facts(), input.key_id()?)?;
    let (tags, next) = page(tags, input, LIST_RESOURCE_TAGS_PAGE)?;
    let tags: Value = tags.into_iter().map(|(k, v)| Value::structure().with("TagKey", k).with("TagValue", v)).collect();
    Ok(with_page(Value::structure().with("Tags", tags), next))
}

fn list_aliases(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let aliases = kms::list_aliases(world, call.facts(), input.string("KeyId"))?;
    let (aliases, next) = page(aliases, input, LIST_ALIASES_PAGE)?;
    let aliases: Value = aliases
        .into_iter()
        .map(|a| {
            Value::structure()
                .with("AliasName", a.name)
                .with("AliasArn", a.arn)
                .with("TargetKeyId", a.target_key_id)
                .with("CreationDate", a.created)
                .with("LastUpdatedDate", a.updated)
        })
        .collect();
    Ok(with_page(Value::structure().with("Aliases", aliases), next))
}

fn schedule_key_deletion(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let key = kms::schedule_key_deletion(world, call.facts(), input.key_id()?, input.int("PendingWindowInDays")?)?;
    Ok(Value::structure()
        .with("KeyId", key.arn.as_str())
        .with_opt("DeletionDate", key.deletion_date)
        .with("KeyState", key.state.as_str())
        .with_opt("PendingWindowInDays", key.pending_window_days))
}

/// Only symmetric keys exist here, so `SYMMETRIC_DEFAULT` is the only algorithm that works.
fn check_algorithm(input: &Input<'_>, name: &str, member: &str) -> Result<(), AwsError> {
    const ALGORITHMS: [&str; 4] = ["SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256", "SM2PKE"];
    match input.string(name) {
        None | Some("SYMMETRIC_DEFAULT") => Ok(()),
        Some(other) if ALGORITHMS.contains(&other) => Err(AwsError::new(
            "InvalidKeyUsageException",
            400,
            format!("The encryption algorithm {other} is not valid for this KMS key."),
        )),
        Some(other) => Err(errors::validation(validation::one(
            member,
            Some(other),
            &format!("Member must satisfy enum value set: [{}]", ALGORITHMS.join(", ")),
        ))),
    }
}

fn encrypt(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let key_id = input.key_id()?;
    let plaintext = input.blob("Plaintext", "plaintext")?;
    let context = input.context("EncryptionContext")?;
    check_algorithm(input, "EncryptionAlgorithm", "encryptionAlgorithm")?;
    let (blob, arn) = kms::encrypt(world, call.facts(), key_id, &plaintext, &context)?;
    Ok(Value::structure()
        .with("CiphertextBlob", Value::Blob(blob))
        .with("KeyId", arn)
        .with("EncryptionAlgorithm", "SYMMETRIC_DEFAULT"))
}

fn decrypt(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let blob = input.blob("CiphertextBlob", "ciphertextBlob")?;
    let context = input.context("EncryptionContext")?;
    check_algorithm(input, "EncryptionAlgorithm", "encryptionAlgorithm")?;
    let (plaintext, arn) = kms::decrypt(world, call.facts(), &blob, &context, input.string("KeyId"))?;
    Ok(Value::structure()
        .with("KeyId", arn)
        .with("Plaintext", Value::Blob(plaintext))
        .with("EncryptionAlgorithm", "SYMMETRIC_DEFAULT"))
}

fn generate_data_key(world: &mut World, call: &Call<'_>, input: &Input<'_>, with_plaintext: bool) -> Result<Value, AwsError> {
    let key_id = input.key_id()?;
    let context = input.context("EncryptionContext")?;
    let length = kms::data_key_length(input.int("NumberOfBytes")?, input.string("KeySpec"))?;
    let data_key = kms::generate_data_key(world, call.facts(), key_id, &context, length, with_plaintext)?;
    Ok(Value::structure()
        .with("CiphertextBlob", Value::Blob(data_key.ciphertext))
        .with_opt("Plaintext", data_key.plaintext.map(Value::Blob))
        .with("KeyId", data_key.key_arn))
}

fn re_encrypt(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let blob = input.blob("CiphertextBlob", "ciphertextBlob")?;
    let destination = input.required("DestinationKeyId", "destinationKeyId")?;
    let source_context = input.context("SourceEncryptionContext")?;
    let destination_context = input.context("DestinationEncryptionContext")?;
    check_algorithm(input, "SourceEncryptionAlgorithm", "sourceEncryptionAlgorithm")?;
    check_algorithm(input, "DestinationEncryptionAlgorithm", "destinationEncryptionAlgorithm")?;
    let (blob, source, destination) = kms::re_encrypt(
        world,
        call.facts(),
        &blob,
        &source_context,
        input.string("SourceKeyId"),
        destination,
        &destination_context,
    )?;
    Ok(Value::structure()
        .with("CiphertextBlob", Value::Blob(blob))
        .with("SourceKeyId", source)
        .with("KeyId", destination)
        .with("SourceEncryptionAlgorithm", "SYMMETRIC_DEFAULT")
        .with("DestinationEncryptionAlgorithm", "SYMMETRIC_DEFAULT"))
}

fn constraints_of(value: Option<&Value>) -> Result<Option<GrantConstraints>, AwsError> {
    let Some(value) = value else {
        return Ok(None);
    };
    let equals = value.get("EncryptionContextEquals").map(context_of).transpose()?;
    let subset = value.get("EncryptionContextSubset").map(context_of).transpose()?;
    match (equals, subset) {
        (Some(_), Some(_)) => Err(errors::validation("More than one constraint supplied")),
        (Some(equals), None) => Ok(Some(GrantConstraints::EncryptionContextEquals(equals))),
        (None, Some(subset)) => Ok(Some(GrantConstraints::EncryptionContextSubset(subset))),
        (None, None) => Ok(None),
    }
}

fn create_grant(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let key_id = input.key_id()?;
    let grantee = input
        .string("GranteePrincipal")
        .or_else(|| input.string("GranteeServicePrincipal"))
        .ok_or_else(|| errors::missing("granteePrincipal"))?;
    if input.0.get("Operations").is_none() {
        return Err(errors::missing("operations"));
    }
    let grant = NewGrant {
        grantee: grantee.to_string(),
        retiring: input.string("RetiringPrincipal").or_else(|| input.string("RetiringServicePrincipal")).map(str::to_string),
        operations: input.strings("Operations")?,
        constraints: constraints_of(input.0.get("Constraints"))?,
        name: input.string("Name").map(str::to_string),
    };
    // Grant tokens (`GrantTokens`) are read for every request in `handle`.
    // A service creating a grant for its caller (a forward access session) calls through its
    // regional endpoint: that is what `kms:ViaService` and `kms:GrantIsForAWSResource` test.
    let via = call.caller.via_service.as_deref().map(|service| crate::port::via_endpoint(service, call.region));
    let (grant_id, token) = kms::create_grant(world, call.facts(), key_id, &grant, via.as_deref())?;
    Ok(Value::structure().with("GrantToken", token).with("GrantId", grant_id))
}

fn grant_entry(key_arn: &str, grant: &Grant) -> Value {
    let constraints = grant.constraints.as_ref().map(|c| match c {
        GrantConstraints::EncryptionContextEquals(context) => {
            Value::structure().with("EncryptionContextEquals", context_value(context))
        }
        GrantConstraints::EncryptionContextSubset(context) => {
            Value::structure().with("EncryptionContextSubset", context_value(context))
        }
    });
    Value::structure()
        .with("KeyId", key_arn)
        .with("GrantId", grant.id.as_str())
        .with_opt("Name", grant.name.as_deref())
        .with("CreationDate", grant.created)
        .with("GranteePrincipal", grant.grantee.as_str())
        .with_opt("RetiringPrincipal", grant.retiring.as_deref())
        .with("IssuingAccount", format!("arn:aws:iam::{}:root", grant.issuing_account))
        .with("Operations", grant.operations.iter().map(String::as_str).collect::<Value>())
        .with_opt("Constraints", constraints)
}

fn list_grants(world: &mut World, call: &Call<'_>, input: &Input<'_>) -> Result<Value, AwsError> {
    let (key_arn, grants) = kms::list_grants(
        world,
        call.facts(),
        input.key_id()?,
        input.string("GrantId"),
        input.string("GranteePrincipal"),
    )?;
    let (grants, next) = page(grants, input, LIST_GRANTS_PAGE)?;
    let grants: Value = grants.iter().map(|g| grant_entry(&key_arn, g)).collect();
    Ok(with_page(Value::structure().with("Grants", grants), next))
}
