//! Why a policy document was refused.
//!
//! `Display` is exactly the text AWS puts in the `MalformedPolicyDocument` message, so the
//! emulator can return it verbatim. AWS's texts are often generic ("Syntax errors in policy."),
//! so every error also carries a [`PolicyError::detail`] saying what was actually wrong; that
//! detail is for humans and logs, never for the wire.

/// A policy document that AWS would refuse with `MalformedPolicyDocument`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Bad JSON, unknown elements, wrong JSON types, unknown condition operators, bad `Effect`
    /// or `Version` values, empty `Statement`, conflicting `Action`/`NotAction` (and the like).
    #[error("Syntax errors in policy.")]
    Syntax { detail: String },
    /// IAM's second ("legacy") parser refused the document: `Effect` in the wrong case,
    /// unparseable date condition values, ARNs with too few segments.
    #[error("The policy failed legacy parsing")]
    LegacyParsing { detail: String },
    /// An identity-based policy names a `Principal` or `NotPrincipal`.
    #[error("Policy document should not specify a principal.")]
    PrincipalNotAllowed { statement: usize },
    /// A resource-based policy statement without `Principal`/`NotPrincipal`.
    #[error("Missing required field Principal")]
    MissingPrincipal { statement: usize },
    /// A role trust policy statement with `Resource`/`NotResource`.
    #[error("Has prohibited field Resource")]
    ProhibitedResource { statement: usize },
    /// A statement without `Action`/`NotAction` (or with an empty list).
    #[error("Policy statement must contain actions.")]
    MissingActions { statement: usize },
    /// An identity-based statement without `Resource`/`NotResource` (or with an empty list).
    #[error("Policy statement must contain resources.")]
    MissingResources { statement: usize },
    /// Two statements share a non-empty `Sid`.
    #[error("Statement IDs (SID) in a single policy must be unique.")]
    DuplicateSid { sid: String },
    /// An action without a `vendor:` prefix. (Condition keys without one are accepted and
    /// simply never match a request key.)
    #[error("Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.")]
    MissingVendor { value: String },
    /// An action with more than one colon.
    #[error("Actions/Condition can contain only one colon.")]
    TooManyColons { value: String },
    /// A vendor prefix with characters outside `[A-Za-z0-9.-]`.
    #[error("Vendor {vendor} is not valid")]
    InvalidVendor { vendor: String },
    /// A resource that is neither `*` nor contains a colon.
    #[error("Resource {resource} must be in ARN format or \"*\".")]
    ResourceNotArn { resource: String },
    /// A resource ARN whose partition is not an AWS partition.
    #[error("Partition \"{partition}\" is not valid for resource \"{resource}\".")]
    InvalidPartition { partition: String, resource: String },
    /// A resource ARN that stops before the service segment.
    #[error("Resource vendor must be fully qualified and cannot contain regexes.")]
    ResourceVendorNotQualified { resource: String },
    /// IAM ARNs are global: a region segment is refused.
    #[error("IAM resource {resource} cannot contain region information.")]
    IamResourceWithRegion { resource: String },
    /// S3 ARNs are global: a region segment is refused.
    #[error("Resource {resource} can not contain region information.")]
    S3ResourceWithRegion { resource: String },
    /// Managed policies (CreatePolicy / CreatePolicyVersion) must use the 2012-10-17 language;
    /// returned by [`crate::Policy::parse_managed`] (right after the syntax checks, before any
    /// other fault) and by [`crate::Policy::require_current_version`].
    #[error("Policy document must be version 2012-10-17 or greater.")]
    VersionTooOld { version: Option<String> },
    /// A role trust policy that is not JSON at all (CreateRole / UpdateAssumeRolePolicy);
    /// returned only by [`crate::Policy::parse_trust_policy`].
    #[error("This policy contains invalid Json")]
    InvalidJson { detail: String },
    /// A role trust policy whose `Action`/`NotAction` names something other than STS's
    /// assume-role actions.
    #[error("AssumeRole policy may only specify STS AssumeRole actions.")]
    NotAssumeRoleAction { action: String },
    /// An IAM resource ARN whose resource part is not `*`, `root` or an IAM resource type.
    #[error("IAM resource path must either be \"*\", root, or start with user/, federated-user/, role/, group/, instance-profile/, mfa/, server-certificate/, policy/, sms-mfa/, saml-provider/, oidc-provider/, report/, access-report/.")]
    IamResourcePath { resource: String },
}

impl PolicyError {
    /// What was actually wrong, for people reading logs; AWS's own text is the `Display`.
    pub fn detail(&self) -> String {
        match self {
            PolicyError::Syntax { detail }
            | PolicyError::LegacyParsing { detail }
            | PolicyError::InvalidJson { detail } => detail.clone(),
            PolicyError::PrincipalNotAllowed { statement } => {
                format!(
                    "statement #{statement} has Principal/NotPrincipal in an identity-based policy"
                )
            }
            PolicyError::MissingPrincipal { statement } => {
                format!("statement #{statement} of a resource-based policy has no Principal/NotPrincipal")
            }
            PolicyError::ProhibitedResource { statement } => {
                format!("statement #{statement} of a trust policy has Resource/NotResource")
            }
            PolicyError::MissingActions { statement } => {
                format!("statement #{statement} has no Action/NotAction (or an empty list)")
            }
            PolicyError::MissingResources { statement } => {
                format!("statement #{statement} has no Resource/NotResource (or an empty list)")
            }
            PolicyError::DuplicateSid { sid } => {
                format!("Sid '{sid}' is used by more than one statement")
            }
            PolicyError::MissingVendor { value } => format!("'{value}' has no 'service:' prefix"),
            PolicyError::TooManyColons { value } => format!("'{value}' has more than one colon"),
            PolicyError::InvalidVendor { vendor } => {
                format!("service prefix '{vendor}' contains characters other than letters, digits, '-' and '.'")
            }
            PolicyError::ResourceNotArn { resource } => {
                format!("resource '{resource}' is not an ARN")
            }
            PolicyError::InvalidPartition {
                partition,
                resource,
            } => {
                format!("partition '{partition}' of '{resource}' is not an AWS partition")
            }
            PolicyError::ResourceVendorNotQualified { resource } => {
                format!("resource '{resource}' has no service segment")
            }
            PolicyError::IamResourceWithRegion { resource }
            | PolicyError::S3ResourceWithRegion { resource } => {
                format!("resource '{resource}' names a region for a global service")
            }
            PolicyError::NotAssumeRoleAction { action } => {
                format!("'{action}' is not one of STS's assume-role actions")
            }
            PolicyError::IamResourcePath { resource } => {
                format!("resource '{resource}' is not '*', 'root' or an IAM resource type")
            }
            PolicyError::VersionTooOld { version } => match version {
                Some(v) => format!("Version is '{v}'; managed policies need 2012-10-17"),
                None => "Version is missing; managed policies need 2012-10-17".to_string(),
            },
        }
    }
}
