//! wana's embedded AWS emulator. See ARCHITECTURE.md at the workspace root for the map.
//!
//! Start one with [`Emulator::start`]; it serves every emulated service on one loopback port.

pub mod accounts;
pub mod authz;
pub mod clock;
mod connection;
mod dispatch;
pub mod error;
pub mod faults;
/// Entry points for `emulator/fuzz/` (the `fuzzing` feature): not part of the emulator's API.
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod ids;
pub mod imds;
pub mod instances;
pub mod port;
pub mod principal;
pub mod profile;
pub mod protocol;
mod server;
pub mod services;
mod sigv4;
pub mod state;
pub mod template;
pub mod validation;
pub mod value;

pub use accounts::{AccountInfo, DEFAULT_ACCOUNTS, DEFAULT_REGION};
pub use clock::Clock;
pub use error::{AwsError, Fault};
pub use faults::FaultProfile;
pub use profile::BehaviourProfile;
pub use instances::{InstancesConfig, ScriptHost};
pub use server::{Emulator, EmulatorConfig, Inspector, MetadataEndpoint, StartError, AWS_INSTANCE_PROFILE_PROPAGATION};
pub use value::Value;
