//! The message catalog: every `messages/*.toml` parsed once.

use std::{collections::BTreeMap, fmt, sync::OnceLock};

use serde::Deserialize;

use crate::Lang;

/// One message in both languages.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Message {
    #[serde(default)]
    pub en: Option<String>,
    #[serde(default)]
    pub ja: Option<String>,
}

impl Message {
    /// The text in `lang` (English when the Japanese is missing, which the tests forbid), with
    /// `{name}` replaced by the argument of that name; `{{` and `}}` are literal braces.
    pub fn render(&self, lang: Lang, args: &[(&str, &dyn fmt::Display)]) -> String {
        let template = match lang {
            Lang::Ja => self.ja.as_deref().or(self.en.as_deref()),
            Lang::En => self.en.as_deref().or(self.ja.as_deref()),
        }
        .unwrap_or_default();
        fill(template, args)
    }
}

/// Replaces `{name}` placeholders; an unknown name is left as written.
fn fill(template: &str, args: &[(&str, &dyn fmt::Display)]) -> String {
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(open) = rest.find(['{', '}']) {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        if tail.starts_with('{') {
            if let Some(close) = tail.find('}') {
                let name = &tail[1..close];
                match args.iter().find(|(arg, _)| *arg == name) {
                    Some((_, value)) => out.push_str(&value.to_string()),
                    None => out.push_str(&tail[..=close]),
                }
                rest = &tail[close + 1..];
                continue;
            }
        }
        out.push_str(&tail[..1]);
        rest = &tail[1..];
    }
    out.push_str(rest);
    out
}

/// The placeholder names of a template, in order of first appearance.
pub fn placeholders(template: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let tail = &rest[open..];
        if tail.starts_with("{{") {
            rest = &tail[2..];
            continue;
        }
        match tail.find('}') {
            Some(close) => {
                let name = tail[1..close].to_string();
                if !names.contains(&name) {
                    names.push(name);
                }
                rest = &tail[close + 1..];
            }
            None => break,
        }
    }
    names
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CatalogError {
    #[error("{file}: not valid TOML: {message}")]
    Syntax { file: String, message: String },
    #[error("key {key} is defined twice ({first} and {second})")]
    Duplicate {
        key: String,
        first: String,
        second: String,
    },
}

/// All messages by key, with the file each came from.
#[derive(Debug, Default)]
pub struct Catalog {
    messages: BTreeMap<String, (String, Message)>,
}

impl Catalog {
    pub fn parse(sources: &[(&str, &str)]) -> Result<Catalog, CatalogError> {
        let mut catalog = Catalog::default();
        for (file, text) in sources {
            let table: BTreeMap<String, Message> =
                toml::from_str(text).map_err(|err| CatalogError::Syntax {
                    file: file.to_string(),
                    message: err.to_string(),
                })?;
            for (key, message) in table {
                if let Some((first, _)) = catalog.messages.get(&key) {
                    return Err(CatalogError::Duplicate {
                        key,
                        first: first.clone(),
                        second: file.to_string(),
                    });
                }
                catalog.messages.insert(key, (file.to_string(), message));
            }
        }
        Ok(catalog)
    }

    pub fn get(&self, key: &str) -> Option<&Message> {
        self.messages.get(key).map(|(_, message)| message)
    }

    /// Every key with its file and message, sorted by key.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str, &Message)> {
        self.messages
            .iter()
            .map(|(key, (file, message))| (key.as_str(), file.as_str(), message))
    }
}

/// The embedded catalog ([`crate::SOURCES`]). A catalog file that does not parse is a build
/// mistake the tests catch; at run time it leaves the catalog empty (every key shows as `⟦key⟧`).
pub fn catalog() -> &'static Catalog {
    static CATALOG: OnceLock<Catalog> = OnceLock::new();
    CATALOG.get_or_init(|| Catalog::parse(crate::SOURCES).unwrap_or_default())
}

#[cfg(test)]
pub(crate) fn fill_for_test(template: &str, args: &[(&str, &dyn fmt::Display)]) -> String {
    fill(template, args)
}
