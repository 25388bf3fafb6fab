//! What an instance's metadata service remembers between requests: the IMDSv2 tokens it issued
//! and the role credentials it is handing out. Plain data; [`crate::imds`] serves it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

/// The memory of one instance's metadata service.
#[derive(Debug, Default, Clone)]
pub struct InstanceMetadata {
    /// IMDSv2 session tokens by value, with when each expires (emulator clock).
    pub tokens: HashMap<String, DateTime<Utc>>,
    /// The role session currently served, if one was obtained.
    pub credentials: Option<InstanceCredentials>,
}

/// A role session EC2 obtained for an instance; its key lives in `World::access_keys`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceCredentials {
    pub role_name: String,
    pub access_key_id: String,
    pub last_updated: DateTime<Utc>,
    pub expires: DateTime<Utc>,
}
