//! Notes in two languages: a recorded explanation kept as a catalog key and its arguments, so
//! that the narrative report can be read in Japanese as well as English.
//!
//! A report stores each note's English text (what `--json`, snapshots and the nightly drift
//! compare) and, beside it, the [`Note`] it was rendered from, which serde skips. The text form
//! of the report renders the note again in the reader's language. Arguments are either plain
//! text, inserted as is in both languages (AWS error codes and messages, ids, names), or another
//! note (a fix's description), rendered in the same language.

use std::{collections::BTreeMap, fmt};

use wana_i18n::Lang;

use crate::redact::Redactor;

/// A message of the catalog (`wana_i18n`) with its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    pub key: String,
    pub args: Vec<(String, NoteArg)>,
}

/// One argument of a [`Note`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteArg {
    /// Text that is the same in every language (a code, an id, an AWS message).
    Text(String),
    /// A message of its own, rendered in the note's language.
    Note(Note),
}

impl Note {
    pub fn new(key: impl Into<String>) -> Note {
        Note { key: key.into(), args: Vec::new() }
    }

    /// Adds an argument (anything [`IntoNoteArg`]: text, a number, another note).
    pub fn arg(mut self, name: &str, value: impl IntoNoteArg) -> Note {
        self.args.push((name.to_string(), value.into_note_arg()));
        self
    }

    /// The note in `lang`.
    pub fn render(&self, lang: Lang) -> String {
        let rendered: Vec<(&str, String)> = self
            .args
            .iter()
            .map(|(name, arg)| {
                let text = match arg {
                    NoteArg::Text(text) => text.clone(),
                    NoteArg::Note(note) => note.render(lang),
                };
                (name.as_str(), text)
            })
            .collect();
        let args: Vec<(&str, &dyn fmt::Display)> =
            rendered.iter().map(|(name, text)| (*name, text as &dyn fmt::Display)).collect();
        wana_i18n::text(lang, &self.key, &args)
    }

    /// The note with every text argument passed through `redactor` (nested notes too).
    pub fn redacted(&self, redactor: &Redactor) -> Note {
        Note {
            key: self.key.clone(),
            args: self
                .args
                .iter()
                .map(|(name, arg)| {
                    let arg = match arg {
                        NoteArg::Text(text) => NoteArg::Text(redactor.redact_text(text)),
                        NoteArg::Note(note) => NoteArg::Note(note.redacted(redactor)),
                    };
                    (name.clone(), arg)
                })
                .collect(),
        }
    }
}

/// What a note's argument can be made of.
pub trait IntoNoteArg {
    fn into_note_arg(self) -> NoteArg;
}

impl<T: fmt::Display> IntoNoteArg for T {
    fn into_note_arg(self) -> NoteArg {
        NoteArg::Text(self.to_string())
    }
}

impl IntoNoteArg for Note {
    fn into_note_arg(self) -> NoteArg {
        NoteArg::Note(self)
    }
}

impl IntoNoteArg for NoteArg {
    fn into_note_arg(self) -> NoteArg {
        self
    }
}

/// The notes of a report in catalog form, by position: `notes[i]` belongs to the report's
/// `narrative_notes[i]` (`None`: recorded as plain English only), `step_notes[&i]` to
/// `steps[i].note`.
///
/// Two narrations always compare equal: a report's equality is that of what it records, and a
/// report read back from JSON has none.
#[derive(Debug, Clone, Default)]
pub struct Narration {
    pub notes: Vec<Option<Note>>,
    pub step_notes: BTreeMap<usize, Note>,
}

impl PartialEq for Narration {
    fn eq(&self, _: &Narration) -> bool {
        true
    }
}

impl Narration {
    pub fn redacted(&self, redactor: &Redactor) -> Narration {
        Narration {
            notes: self.notes.iter().map(|n| n.as_ref().map(|n| n.redacted(redactor))).collect(),
            step_notes: self.step_notes.iter().map(|(i, n)| (*i, n.redacted(redactor))).collect(),
        }
    }
}

/// `note_tr!(recorder, <key>, name = value, ...)`: records a note from the catalog (its
/// English text in the report, the key and arguments for the other language).
#[macro_export]
macro_rules! note_tr {
    ($recorder:expr, $key:literal $(,)?) => {
        $recorder.note_msg($crate::narration::Note::new($key))
    };
    ($recorder:expr, $key:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $recorder.note_msg($crate::narration::Note::new($key)$(.arg(stringify!($name), $value))+)
    };
}

/// `msg_tr!(_, <key>, name = value, ...)`: a [`Note`] to pass as another note's argument
/// or to a step (the first argument is not used: it keeps the form of `tr!`, whose keys the
/// catalog's tests check).
#[macro_export]
macro_rules! msg_tr {
    (_, $key:literal $(,)?) => {
        $crate::narration::Note::new($key)
    };
    (_, $key:literal, $($name:ident = $value:expr),+ $(,)?) => {
        $crate::narration::Note::new($key)$(.arg(stringify!($name), $value))+
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_note_renders_in_each_language_with_nested_notes() {
        let note = Note::new("narration.verdict_line").arg("verdict", "fix-failed").arg(
            "expectation",
            Note::new("narration.as_expected").arg("expected", "fix-failed"),
        );
        assert_eq!(note.render(Lang::En), "verdict: fix-failed, as expected (fix-failed)");
        let ja = note.render(Lang::Ja);
        assert!(ja.contains("判定") && ja.contains("fix-failed"), "{ja}");
    }

    #[test]
    fn redaction_reaches_nested_arguments() {
        let mut redactor = Redactor::secrets_only();
        redactor.add_secret("s3cr3tValueThatMustNotLeak");
        let note = Note::new("k").arg("a", Note::new("k2").arg("b", "x s3cr3tValueThatMustNotLeak"));
        let redacted = format!("{:?}", note.redacted(&redactor));
        assert!(!redacted.contains("s3cr3tValue"), "{redacted}");
        assert!(redacted.contains("k2"), "{redacted}");
    }
}
