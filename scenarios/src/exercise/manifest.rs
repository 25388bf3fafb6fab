//! `scenarios/fixes/<trap>/fixes.toml`: the fixes of a trap with what `check` must say about
//! each (format in scenarios/fixes/README.md).

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{FixKind, Verdict};

#[derive(Debug, Clone, Deserialize)]
pub struct Manifest {
    #[serde(default)]
    pub fix: Vec<Entry>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Title {
    pub en: String,
    pub ja: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Entry {
    pub file: String,
    pub kind: String,
    pub expect: String,
    #[serde(default)]
    pub broader: Vec<String>,
    pub title: Option<Title>,
}

impl Entry {
    pub fn kind(&self) -> Result<FixKind, String> {
        self.kind.parse().map_err(|err: super::UnknownKind| err.to_string())
    }

    pub fn expected(&self) -> Result<Verdict, String> {
        match self.expect.as_str() {
            "resolved" => Ok(Verdict::Resolved),
            "broader" => Ok(Verdict::Broader),
            "not-resolved" => Ok(Verdict::NotResolved),
            other => Err(format!("unknown expect {other:?} (resolved, broader or not-resolved)")),
        }
    }
}

/// The folder of the fix files: `scenarios/fixes`.
pub fn fixes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixes")
}

/// The manifest of `trap`, if it has one.
pub fn load(trap: &str) -> Result<Option<Manifest>, String> {
    let path = fixes_dir().join(trap).join("fixes.toml");
    let Ok(text) = std::fs::read_to_string(&path) else { return Ok(None) };
    toml::from_str(&text).map(Some).map_err(|err| format!("{}: {err}", path.display()))
}
