//! The accounts every emulator run starts with.
//!
//! Three accounts, `a`, `b` and `c`, with fixed ids and an administrator IAM user each, so that a
//! workshop participant can copy one `export` block and every trap can name "the other account"
//! without setup. The keys are fixed and public: they only ever open this emulator.

/// A built-in account and its administrator's long-term access key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountInfo {
    /// The short name used on the command line (`--print-env a`).
    pub name: &'static str,
    pub id: &'static str,
    /// The IAM user that holds `AdministratorAccess` in this account.
    pub admin_user: &'static str,
    pub access_key_id: &'static str,
    pub secret_access_key: &'static str,
}

pub const DEFAULT_ACCOUNTS: [AccountInfo; 3] = [
    AccountInfo {
        name: "a",
        id: "111111111111",
        admin_user: "admin",
        access_key_id: "AKIAWANAADMINA000001",
        secret_access_key: "wanaAdminSecretForAccountA00000000000001",
    },
    AccountInfo {
        name: "b",
        id: "222222222222",
        admin_user: "admin",
        access_key_id: "AKIAWANAADMINB000002",
        secret_access_key: "wanaAdminSecretForAccountB00000000000002",
    },
    AccountInfo {
        name: "c",
        id: "333333333333",
        admin_user: "admin",
        access_key_id: "AKIAWANAADMINC000003",
        secret_access_key: "wanaAdminSecretForAccountC00000000000003",
    },
];

/// The region the emulator reports when a client names none. Any region name is accepted.
pub const DEFAULT_REGION: &str = "us-east-1";

/// Looks an account up by its short name (`a`) or its 12-digit id.
pub fn find(name_or_id: &str) -> Option<&'static AccountInfo> {
    DEFAULT_ACCOUNTS
        .iter()
        .find(|a| a.name == name_or_id || a.id == name_or_id)
}

/// The availability zones of a region: `<region>a`, `b` and `c`, in every account (EC2 and
/// CloudFormation's `Fn::GetAZs` both read them here).
pub fn availability_zones(region: &str) -> Vec<String> {
    ["a", "b", "c"].iter().map(|suffix| format!("{region}{suffix}")).collect()
}
