//! Identifiers and cryptography: key ids, key material, ciphertext blobs and data keys, and the
//! cryptographic operations (Encrypt, Decrypt, GenerateDataKey, ReEncrypt).
//!
//! # Cryptography
//!
//! This is an emulator: key material is not secret. Each key's 256-bit AES key is SHA-256 over a
//! fixed emulator salt and the key id, so runs are repeatable. Encryption is real AES-256-GCM
//! with the encryption context as additional authenticated data, so a wrong context fails as on
//! AWS (`InvalidCiphertextException`). Nonces come from a per-key counter. A ciphertext blob
//! carries the key ARN, so `Decrypt` finds its key without a `KeyId`.

use aes_gcm::{
    aead::{Aead, KeyInit, Payload},
    Aes256Gcm,
};

use super::{
    access::{authorize_key, require_usable, KeyUse},
    addr::{existing_key, key, key_mut, resolve, Reach},
    arn::{parse_key_arn, KeyAddr},
    ids::sha256,
    errors,
    EncryptionContext,
    Key,
};
use crate::{authz::RequestFacts, error::AwsError, state::World, validation};

/// The emulator's fixed salt for key material. Not a secret: this is an emulator.
const KEY_MATERIAL_SALT: &[u8] = b"wana-emulator/kms/key-material/v1";

fn key_material(key_id: &str) -> [u8; 32] {
    sha256(&[KEY_MATERIAL_SALT, key_id.as_bytes()])
}

/// The encryption context as authenticated data: pairs in key order, each part
/// length-prefixed, so that no two contexts share an encoding.
fn context_aad(context: &EncryptionContext) -> Vec<u8> {
    let mut out = Vec::new();
    for (k, v) in context {
        for part in [k.as_bytes(), v.as_bytes()] {
            out.extend_from_slice(&(part.len() as u32).to_be_bytes());
            out.extend_from_slice(part);
        }
    }
    out
}

const BLOB_MAGIC: &[u8; 4] = b"WKMS";
const BLOB_VERSION: u8 = 1;
const NONCE_LEN: usize = 12;

fn seal(key: &mut Key, plaintext: &[u8], context: &EncryptionContext) -> Result<Vec<u8>, AwsError> {
    key.next_nonce += 1;
    let mut nonce = [0u8; NONCE_LEN];
    nonce[4..].copy_from_slice(&key.next_nonce.to_be_bytes());
    let material = key_material(&key.id);
    let cipher = Aes256Gcm::new(aes_gcm::Key::<Aes256Gcm>::from_slice(&material));
    let aad = context_aad(context);
    let sealed = cipher
        .encrypt(aes_gcm::Nonce::from_slice(&nonce), Payload { msg: plaintext, aad: &aad })
        .map_err(|_| AwsError::new("KMSInternalException", 500, "encryption failed"))?;
    let arn = key.arn.as_bytes();
    let mut blob = Vec::with_capacity(4 + 1 + 2 + arn.len() + NONCE_LEN + sealed.len());
    blob.extend_from_slice(BLOB_MAGIC);
    blob.push(BLOB_VERSION);
    blob.extend_from_slice(&(arn.len() as u16).to_be_bytes());
    blob.extend_from_slice(arn);
    blob.extend_from_slice(&nonce);
    blob.extend_from_slice(&sealed);
    Ok(blob)
}

/// A ciphertext blob taken apart: the key it names, the nonce and the sealed bytes.
struct Blob<'a> {
    key: KeyAddr,
    nonce: &'a [u8],
    sealed: &'a [u8],
}

fn parse_blob(blob: &[u8]) -> Option<Blob<'_>> {
    let rest = blob.strip_prefix(BLOB_MAGIC.as_slice())?;
    let (&version, rest) = rest.split_first()?;
    if version != BLOB_VERSION || rest.len() < 2 {
        return None;
    }
    let arn_len = u16::from_be_bytes([rest[0], rest[1]]) as usize;
    let rest = &rest[2..];
    if rest.len() < arn_len + NONCE_LEN {
        return None;
    }
    let arn = std::str::from_utf8(&rest[..arn_len]).ok()?;
    let key = parse_key_arn(arn)?;
    let (nonce, sealed) = rest[arn_len..].split_at(NONCE_LEN);
    Some(Blob { key, nonce, sealed })
}

fn open(key: &Key, blob: &Blob<'_>, context: &EncryptionContext) -> Result<Vec<u8>, AwsError> {
    let material = key_material(&key.id);
    let cipher = Aes256Gcm::new(aes_gcm::Key::<Aes256Gcm>::from_slice(&material));
    let aad = context_aad(context);
    cipher
        .decrypt(aes_gcm::Nonce::from_slice(blob.nonce), Payload { msg: blob.sealed, aad: &aad })
        .map_err(|_| errors::invalid_ciphertext())
}

/// Data-key bytes: deterministic, distinct for every data key of every key.
fn data_key_bytes(key: &Key, length: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(length + 32);
    let mut block: u64 = 0;
    while out.len() < length {
        out.extend_from_slice(&sha256(&[
            b"wana-kms-data-key",
            key.id.as_bytes(),
            &key.next_nonce.to_be_bytes(),
            &block.to_be_bytes(),
        ]));
        block += 1;
    }
    out.truncate(length);
    out
}

fn require_encrypt_decrypt(key: &Key) -> Result<(), AwsError> {
    if key.key_usage == "ENCRYPT_DECRYPT" {
        Ok(())
    } else {
        Err(AwsError::new(
            "InvalidKeyUsageException",
            400,
            format!("{} key usage is {} which is not valid for this operation.", key.arn, key.key_usage),
        ))
    }
}

/// Encrypt. Returns the ciphertext blob and the key ARN.
pub fn encrypt(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_ref: &str,
    plaintext: &[u8],
    context: &EncryptionContext,
) -> Result<(Vec<u8>, String), AwsError> {
    if plaintext.is_empty() || plaintext.len() > 4096 {
        // KMS leaves the (sensitive) value out of this violation: `Value at 'plaintext'`.
        let rule = if plaintext.is_empty() { "greater than or equal to 1" } else { "less than or equal to 4096" };
        return Err(errors::validation(validation::summary(&[validation::violation_without_value(
            "plaintext",
            &format!("Member must have length {rule}"),
        )])));
    }
    let addr = resolve(world, &facts, key_ref, Reach::CrossAccount)?;
    let usage = KeyUse { grant_operation: Some("Encrypt"), encryption_context: Some(context), ..KeyUse::default() };
    authorize_key(world, facts, &addr, "kms:Encrypt", &usage)?;
    let key = key_mut(world, &addr)?;
    require_usable(key)?;
    require_encrypt_decrypt(key)?;
    Ok((seal(key, plaintext, context)?, key.arn.clone()))
}

/// The key a ciphertext names, checked against the `KeyId` the request gave (if any).
fn ciphertext_key(world: &mut World, facts: &RequestFacts<'_>, blob: &[u8], key_ref: Option<&str>) -> Result<KeyAddr, AwsError> {
    let parsed = parse_blob(blob).ok_or_else(errors::invalid_ciphertext)?;
    if parsed.key.region != facts.region {
        return Err(errors::invalid_ciphertext());
    }
    if key(world, &parsed.key).is_none() {
        return Err(errors::key_not_found(&parsed.key.arn()));
    }
    if let Some(key_ref) = key_ref {
        let named = resolve(world, facts, key_ref, Reach::CrossAccount)?;
        if named != parsed.key {
            return Err(errors::incorrect_key());
        }
    }
    Ok(parsed.key)
}

fn open_blob(world: &World, addr: &KeyAddr, blob: &[u8], context: &EncryptionContext) -> Result<Vec<u8>, AwsError> {
    let key = existing_key(world, addr)?;
    require_usable(&key)?;
    require_encrypt_decrypt(&key)?;
    let parsed = parse_blob(blob).ok_or_else(errors::invalid_ciphertext)?;
    open(&key, &parsed, context)
}

/// Decrypt. Returns the plaintext and the ARN of the key the ciphertext was made with.
pub fn decrypt(
    world: &mut World,
    facts: RequestFacts<'_>,
    blob: &[u8],
    context: &EncryptionContext,
    key_ref: Option<&str>,
) -> Result<(Vec<u8>, String), AwsError> {
    let addr = ciphertext_key(world, &facts, blob, key_ref)?;
    let usage = KeyUse { grant_operation: Some("Decrypt"), encryption_context: Some(context), ..KeyUse::default() };
    authorize_key(world, facts, &addr, "kms:Decrypt", &usage)?;
    let plaintext = open_blob(world, &addr, blob, context)?;
    Ok((plaintext, addr.arn()))
}

/// The length of a data key: `NumberOfBytes` or `KeySpec`, exactly one of them.
pub fn data_key_length(number_of_bytes: Option<i64>, key_spec: Option<&str>) -> Result<usize, AwsError> {
    match (number_of_bytes, key_spec) {
        (Some(n), None) if (1..=1024).contains(&n) => Ok(n as usize),
        (Some(n), None) => Err(errors::validation(validation::one(
            "numberOfBytes",
            Some(&n.to_string()),
            &format!("Member must have value {}", if n < 1 { "greater than or equal to 1" } else { "less than or equal to 1024" }),
        ))),
        (None, Some("AES_256")) => Ok(32),
        (None, Some("AES_128")) => Ok(16),
        (None, Some(other)) => Err(errors::enum_error(other, "keySpec", &["AES_256", "AES_128"])),
        _ => Err(errors::validation("Please specify either number of bytes or key spec.")),
    }
}

/// A data key from GenerateDataKey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataKey {
    /// The data key encrypted under the KMS key.
    pub ciphertext: Vec<u8>,
    /// The data key itself, unless asked for without plaintext.
    pub plaintext: Option<Vec<u8>>,
    pub key_arn: String,
}

/// GenerateDataKey (`with_plaintext`) and GenerateDataKeyWithoutPlaintext.
pub fn generate_data_key(
    world: &mut World,
    facts: RequestFacts<'_>,
    key_ref: &str,
    context: &EncryptionContext,
    length: usize,
    with_plaintext: bool,
) -> Result<DataKey, AwsError> {
    let addr = resolve(world, &facts, key_ref, Reach::CrossAccount)?;
    let (action, operation) = if with_plaintext {
        ("kms:GenerateDataKey", "GenerateDataKey")
    } else {
        ("kms:GenerateDataKeyWithoutPlaintext", "GenerateDataKeyWithoutPlaintext")
    };
    let usage = KeyUse { grant_operation: Some(operation), encryption_context: Some(context), ..KeyUse::default() };
    authorize_key(world, facts, &addr, action, &usage)?;
    let key = key_mut(world, &addr)?;
    require_usable(key)?;
    require_encrypt_decrypt(key)?;
    let data_key = data_key_bytes(key, length);
    let blob = seal(key, &data_key, context)?;
    Ok(DataKey { ciphertext: blob, plaintext: with_plaintext.then_some(data_key), key_arn: key.arn.clone() })
}

/// ReEncrypt: `kms:ReEncryptFrom` on the source key and `kms:ReEncryptTo` on the destination.
/// Returns the new blob, the source key ARN and the destination key ARN.
pub fn re_encrypt(
    world: &mut World,
    facts: RequestFacts<'_>,
    blob: &[u8],
    source_context: &EncryptionContext,
    source_key: Option<&str>,
    destination_key: &str,
    destination_context: &EncryptionContext,
) -> Result<(Vec<u8>, String, String), AwsError> {
    let source = ciphertext_key(world, &facts, blob, source_key)?;
    let destination = resolve(world, &facts, destination_key, Reach::CrossAccount)?;
    let from = KeyUse { grant_operation: Some("ReEncryptFrom"), encryption_context: Some(source_context), ..KeyUse::default() };
    authorize_key(world, facts, &source, "kms:ReEncryptFrom", &from)?;
    let to = KeyUse { grant_operation: Some("ReEncryptTo"), encryption_context: Some(destination_context), ..KeyUse::default() };
    authorize_key(world, facts, &destination, "kms:ReEncryptTo", &to)?;
    let plaintext = open_blob(world, &source, blob, source_context)?;
    let key = key_mut(world, &destination)?;
    require_usable(key)?;
    require_encrypt_decrypt(key)?;
    let sealed = seal(key, &plaintext, destination_context)?;
    Ok((sealed, source.arn(), destination.arn()))
}
