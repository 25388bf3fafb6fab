//! Narration in English and Japanese.
//!
//! Every message a participant reads has a key and is written in both languages in one of the
//! catalog files under `i18n/messages/` (one file per area: `common.toml`, `check.toml`, ...),
//! one table per key with `en` and `ja`:
//!
//! ```toml
//! ["check.resolved"]
//! en = "The fix resolves the trap."
//! ja = "この修正で罠は解消されます。"
//! ```
//!
//! Placeholders are `{name}`, filled by [`tr!`]. The tests of this crate fail when a message
//! exists in one language only, when the two languages disagree on placeholders, when a `ja`
//! text has no Japanese in it, and when source code in the workspace names a key no catalog has.
//! Longer texts (narratives, hints, trainer sheets) are Markdown files in pairs, `x.md` and
//! `x.ja.md`; [`check_markdown_pair`] is the check their crates run on each pair.

mod catalog;
mod lang;
mod markdown;

pub use catalog::{catalog, placeholders, Catalog, CatalogError, Message};
pub use lang::Lang;
pub use markdown::check_markdown_pair;

/// The catalog files, embedded at build time. An area adds its file here.
pub const SOURCES: &[(&str, &str)] = &[
    ("common.toml", include_str!("../messages/common.toml")),
    ("hints.toml", include_str!("../messages/hints.toml")),
    ("report.toml", include_str!("../messages/report.toml")),
    ("check.toml", include_str!("../messages/check.toml")),
    ("workshop.toml", include_str!("../messages/workshop.toml")),
    ("narration.toml", include_str!("../messages/narration.toml")),
    ("notes-runner.toml", include_str!("../messages/notes-runner.toml")),
    ("notes-alarm-recover.toml", include_str!("../messages/notes-alarm-recover.toml")),
    ("notes-cmk-start-external-role.toml", include_str!("../messages/notes-cmk-start-external-role.toml")),
    ("notes-cross-account-ami-asg.toml", include_str!("../messages/notes-cross-account-ami-asg.toml")),
    ("notes-instance-profile-ssm.toml", include_str!("../messages/notes-instance-profile-ssm.toml")),
    ("notes-runcommand-shadow-credentials.toml", include_str!("../messages/notes-runcommand-shadow-credentials.toml")),
    ("explain.toml", include_str!("../messages/explain.toml")),
    ("cli.toml", include_str!("../messages/cli.toml")),
];

/// The message `key` in `lang`, with `{name}` placeholders replaced by `args`.
///
/// A key that no catalog has is shown as `⟦key⟧` (and this crate's tests catch it in source
/// code before it ships).
pub fn text(lang: Lang, key: &str, args: &[(&str, &dyn std::fmt::Display)]) -> String {
    match catalog().get(key) {
        Some(message) => message.render(lang, args),
        None => format!("⟦{key}⟧"),
    }
}

/// `tr!(lang, "key")` or `tr!(lang, "key", name = value, ...)`: [`text`] with named arguments.
#[macro_export]
macro_rules! tr {
    ($lang:expr, $key:literal $(,)?) => {
        $crate::text($lang, $key, &[])
    };
    ($lang:expr, $key:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::text($lang, $key, &[$((stringify!($name), &$value as &dyn ::std::fmt::Display)),+])
    };
}

#[cfg(test)]
mod tests;
