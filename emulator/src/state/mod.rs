//! The world: every account's resources, the credential store, and the id generator.
//!
//! State lives here, apart from the wire format: the types in this folder know nothing of
//! query strings, XML or JSON. The service files in `crate::services` translate between a
//! decoded request and these types.

pub mod aws_managed;
pub mod iam;
mod world;

pub use world::{parse_document, AccessKey, Account, KeyOwner, KeyStatus, Session, World};
