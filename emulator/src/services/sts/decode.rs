//! `DecodeAuthorizationMessage`: the document behind an encoded authorization message
//! (`crate::services::authorization_message`), for a caller of the account the message was
//! issued to, with `sts:DecodeAuthorizationMessage` allowed.
//!
//! Errors, from botocore's STS model: `EncodedMessage` is required, 1 to 10,240 characters
//! (`ValidationError`); a message that cannot be read is `InvalidAuthorizationMessageException`
//! (HTTP 400), "if the token contains invalid characters, such as line breaks, or if the message
//! has expired". Unconfirmed, chosen: its text `Message is not valid`; a message issued to
//! another account is not valid either; validation comes before authorization, as elsewhere in
//! the emulator's query services.

use crate::{
    error::AwsError,
    services::{authorization_message, Call},
    state::World,
    validation,
    value::Value,
};

/// `encodedMessageType`'s bound.
const MAX_ENCODED_LENGTH: usize = 10_240;

pub(super) fn decode_authorization_message(world: &mut World, call: &Call<'_>) -> Result<Value, AwsError> {
    let encoded = call.required("EncodedMessage")?;
    let length = encoded.chars().count();
    if length == 0 || length > MAX_ENCODED_LENGTH {
        let rule = if length == 0 {
            "Member must have length greater than or equal to 1".to_string()
        } else {
            format!("Member must have length less than or equal to {MAX_ENCODED_LENGTH}")
        };
        return Err(AwsError::validation(validation::one("encodedMessage", Some(encoded), &rule)));
    }
    call.authorize_identity(world, "sts:DecodeAuthorizationMessage", "*")?;
    let decoded = authorization_message::decode(call.account(), encoded)
        .ok_or_else(|| AwsError::new("InvalidAuthorizationMessageException", 400, "Message is not valid"))?;
    Ok(Value::structure().with("DecodedMessage", decoded))
}
