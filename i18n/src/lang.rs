//! The language a participant reads: `--lang`, else the locale variables, else English.

use std::{fmt, str::FromStr};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    #[default]
    En,
    Ja,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Ja];

    /// `--lang` when given, else the locale: the first of `LC_ALL`, `LC_MESSAGES`, `LANG` that is
    /// set and not empty (POSIX's order); `ja…` means Japanese, anything else English.
    pub fn choose(flag: Option<Lang>) -> Lang {
        flag.unwrap_or_else(|| Lang::from_locale(|name| std::env::var(name).ok()))
    }

    /// The locale rule of [`Lang::choose`], with the environment passed in (for tests).
    pub fn from_locale(var: impl Fn(&str) -> Option<String>) -> Lang {
        let locale = ["LC_ALL", "LC_MESSAGES", "LANG"]
            .into_iter()
            .filter_map(|name| var(name))
            .find(|value| !value.is_empty());
        match locale {
            Some(value) if value.to_ascii_lowercase().starts_with("ja") => Lang::Ja,
            _ => Lang::En,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Ja => "ja",
        }
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "en" | "english" => Ok(Lang::En),
            "ja" | "japanese" | "日本語" => Ok(Lang::Ja),
            _ => Err(format!("unknown language {s:?} (expected en or ja)")),
        }
    }
}
