//! A finding of the breadth analysis: what a fix grants beyond the trap's need, with its short
//! English label (the manifests' `broader` names) and its message in each language.

use wana_i18n::{tr, Lang};

/// What is broader, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindingKind {
    /// `*` or `service:*` in `Action`.
    ActionWildcard { action: String },
    NotAction,
    /// `Resource: *` where `resource` would do.
    ResourceStar { resource: String },
    /// `kms:CreateGrant` allowed without `kms:GrantIsForAWSResource` or `kms:ViaService`.
    CreateGrantUnconditioned,
    /// Use of the key allowed without `kms:ViaService` (`service` would do).
    UseWithoutViaService { service: String },
    PrincipalStar,
    /// A whole account where `needed` would do.
    PrincipalAccount { principal: String, needed: String },
    /// An AWS managed policy that grants far more than any trap needs.
    ManagedPolicy { policy: String },
    /// A grant operation beyond `needed`.
    GrantOperation { operation: String, needed: Vec<String> },
    /// An identity policy allowing `Action: *` on `Resource: *`.
    AdministratorEquivalent,
    /// A script printing the role's credentials (Run Command keeps the output).
    CredentialsInOutput { line: String },
    /// A script storing the role's credentials in a file.
    CredentialsOnDisk { line: String },
    /// A stack update that replaces a resource beyond the one the fix is about.
    Replaces { logical_id: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub kind: FindingKind,
}

impl Finding {
    pub(super) fn new(kind: FindingKind) -> Finding {
        Finding { kind }
    }

    /// The short English name of what is broader (what manifests list).
    pub fn label(&self) -> String {
        match &self.kind {
            FindingKind::ActionWildcard { action } => action.clone(),
            FindingKind::NotAction => "NotAction".into(),
            FindingKind::ResourceStar { .. } => "Resource: *".into(),
            FindingKind::CreateGrantUnconditioned => "missing kms:GrantIsForAWSResource".into(),
            FindingKind::UseWithoutViaService { .. } => "missing kms:ViaService".into(),
            FindingKind::PrincipalStar => "Principal: *".into(),
            FindingKind::PrincipalAccount { .. } => "principal: whole account".into(),
            FindingKind::ManagedPolicy { policy } => policy.clone(),
            FindingKind::GrantOperation { operation, .. } => format!("grant operation: {operation}"),
            FindingKind::AdministratorEquivalent => "AdministratorAccess".into(),
            FindingKind::CredentialsInOutput { .. } => "credentials in command output".into(),
            FindingKind::CredentialsOnDisk { .. } => "credentials written to disk".into(),
            FindingKind::Replaces { logical_id } => format!("replaces {logical_id}"),
        }
    }

    /// The finding in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        match &self.kind {
            FindingKind::ActionWildcard { action } => tr!(lang, "check.breadth.action_wildcard", action = action),
            FindingKind::NotAction => tr!(lang, "check.breadth.not_action"),
            FindingKind::ResourceStar { resource } => tr!(lang, "check.breadth.resource_star", resource = resource),
            FindingKind::CreateGrantUnconditioned => tr!(lang, "check.breadth.create_grant_unconditioned"),
            FindingKind::UseWithoutViaService { service } => tr!(lang, "check.breadth.use_without_via_service", service = service),
            FindingKind::PrincipalStar => tr!(lang, "check.breadth.principal_star"),
            FindingKind::PrincipalAccount { principal, needed } => {
                tr!(lang, "check.breadth.principal_account", principal = principal, needed = needed)
            }
            FindingKind::ManagedPolicy { policy } => tr!(lang, "check.breadth.managed_policy", policy = policy),
            FindingKind::GrantOperation { operation, needed } => {
                tr!(lang, "check.breadth.grant_operation", operation = operation, needed = needed.join(", "))
            }
            FindingKind::AdministratorEquivalent => tr!(lang, "check.breadth.administrator"),
            FindingKind::CredentialsInOutput { line } => tr!(lang, "check.breadth.credentials_output", line = line),
            FindingKind::CredentialsOnDisk { line } => tr!(lang, "check.breadth.credentials_disk", line = line),
            FindingKind::Replaces { logical_id } => tr!(lang, "check.breadth.replaces", resource = logical_id),
        }
    }

    /// Whether a manifest's `broader` entry names this finding: its label or its English message
    /// contains the entry (case-insensitive).
    pub fn is_named_by(&self, entry: &str) -> bool {
        let entry = entry.to_ascii_lowercase();
        self.label().to_ascii_lowercase().contains(&entry) || self.message(Lang::En).to_ascii_lowercase().contains(&entry)
    }
}
