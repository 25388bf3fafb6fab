//! The world: every account's resources, the credential store, the scheduler of deferred
//! effects, and the id generator.
//!
//! State lives here, apart from the wire format: the types in this folder know nothing of
//! query strings, XML or JSON. The service files in `crate::services` translate between a
//! decoded request and these types.

mod authorize;
pub mod autoscaling;
pub mod aws_managed;
pub mod cloudformation;
pub mod cloudwatch;
mod effects;
pub mod layers;
pub mod ec2;
pub mod iam;
pub mod kms;
pub mod metadata;
pub mod organizations;
pub mod propagation;
pub mod simulator;
pub mod s3;
pub mod scheduler;
pub mod ssm;
mod world;

pub use propagation::{EntityKind, Propagation};
pub use world::{
    parse_document, AccessKey, Account, KeyOwner, KeyStatus, Port, Regional, Session, SessionPolicies, World,
};
