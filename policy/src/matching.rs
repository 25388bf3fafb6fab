//! Wildcard matching for actions, resource ARNs and string conditions.
//!
//! Two flavours, both with `*` (any run, possibly empty) and `?` (exactly one character):
//!
//! * plain globs ([`wildcard_match`]): used for actions, `StringLike` and principals-free
//!   strings; `*` crosses every character.
//! * ARN globs ([`arn_match`]): used for `Resource`/`NotResource` and the `Arn*` condition
//!   operators. AWS documents that wildcards work "within the individual segments of an ARN
//!   (the parts separated by colons)" and that a `*` which is "the last character of a resource
//!   ARN segment ... can expand to match beyond colon boundaries". So a `*` followed by `:` or
//!   ending the pattern crosses colons, while a `*` in the middle of a segment does not.
//!
//! Literal masks exist because policy variables insert text (a user name, `${*}`) that must
//! match itself even when it contains `*` or `?`.
//!
//! Everything here works on UTF-8 bytes with `?` consuming a whole character, so no per-call
//! allocation happens on the common paths; only ARN patterns with a mid-segment `*` fall back to
//! a small dynamic programme.

/// Plain glob, case-sensitive: `*` matches any run of characters, `?` exactly one.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    glob_bytes(pattern.as_bytes(), None, text.as_bytes())
}

/// Resource-ARN glob, case-sensitive, with AWS's segment rule for `*` (see module docs).
pub fn arn_match(pattern: &str, value: &str) -> bool {
    arn_match_masked(pattern.as_bytes(), None, value.as_bytes())
}

/// What a pattern needs at match time, decided once when the policy is parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatternShape {
    kind: ShapeKind,
    /// Bytes before the first wildcard: a cheap `starts_with` rejects most non-matching text
    /// (another service's actions, another bucket's ARNs) before any wildcard work.
    literal_prefix: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ShapeKind {
    /// `*` alone.
    Everything,
    /// No wildcard: byte equality.
    Exact,
    /// Wildcards, each of which may cross colons (greedy matcher).
    Glob,
    /// An ARN pattern with a `*` in the middle of a segment (segment-aware matcher).
    SegmentedGlob,
}

impl PatternShape {
    /// Shape of a plain (non-ARN) glob pattern.
    pub fn of_glob(pattern: &str) -> PatternShape {
        let literal_prefix = pattern.find(['*', '?']).unwrap_or(pattern.len());
        let kind = if pattern == "*" {
            ShapeKind::Everything
        } else if literal_prefix == pattern.len() {
            ShapeKind::Exact
        } else {
            ShapeKind::Glob
        };
        PatternShape {
            kind,
            literal_prefix,
        }
    }

    /// Shape of an ARN pattern.
    pub fn of_arn(pattern: &str) -> PatternShape {
        let mut shape = PatternShape::of_glob(pattern);
        if shape.kind == ShapeKind::Glob && has_segment_bound_star(pattern.as_bytes(), None) {
            shape.kind = ShapeKind::SegmentedGlob;
        }
        shape
    }
}

/// Plain glob over a pre-classified pattern.
pub(crate) fn glob_with_shape(shape: PatternShape, pattern: &str, text: &str) -> bool {
    match shape.kind {
        ShapeKind::Everything => true,
        ShapeKind::Exact => pattern == text,
        ShapeKind::Glob | ShapeKind::SegmentedGlob => match split_prefix(shape, pattern, text) {
            Some((pattern_rest, text_rest)) => glob_bytes(pattern_rest, None, text_rest),
            None => false,
        },
    }
}

/// ARN glob over a pre-classified pattern.
pub(crate) fn arn_with_shape(shape: PatternShape, pattern: &str, value: &str) -> bool {
    match shape.kind {
        ShapeKind::Everything => true,
        ShapeKind::Exact => pattern == value,
        ShapeKind::Glob => match split_prefix(shape, pattern, value) {
            Some((pattern_rest, value_rest)) => glob_bytes(pattern_rest, None, value_rest),
            None => false,
        },
        ShapeKind::SegmentedGlob => match split_prefix(shape, pattern, value) {
            Some((pattern_rest, value_rest)) => segmented_glob(pattern_rest, None, value_rest),
            None => false,
        },
    }
}

/// Strips the pattern's literal prefix from both sides, or `None` when the text lacks it. The
/// prefix ends before an ASCII wildcard, so both remainders start on character boundaries.
fn split_prefix<'a, 'b>(
    shape: PatternShape,
    pattern: &'a str,
    text: &'b str,
) -> Option<(&'a [u8], &'b [u8])> {
    let prefix = pattern.as_bytes().get(..shape.literal_prefix)?;
    let text_rest = text.as_bytes().strip_prefix(prefix)?;
    Some((&pattern.as_bytes()[shape.literal_prefix..], text_rest))
}

/// ARN glob where `literal[i]` marks pattern bytes that must match themselves.
pub(crate) fn arn_match_masked(pattern: &[u8], literal: Option<&[bool]>, value: &[u8]) -> bool {
    if has_segment_bound_star(pattern, literal) {
        segmented_glob(pattern, literal, value)
    } else {
        glob_bytes(pattern, literal, value)
    }
}

fn is_wild(pattern: &[u8], literal: Option<&[bool]>, i: usize, wildcard: u8) -> bool {
    pattern[i] == wildcard && !literal.is_some_and(|mask| mask.get(i).copied().unwrap_or(false))
}

/// True when some `*` sits in the middle of an ARN segment, i.e. is neither the last pattern
/// character nor followed by `:`. Only such stars are barred from crossing colons.
fn has_segment_bound_star(pattern: &[u8], literal: Option<&[bool]>) -> bool {
    (0..pattern.len())
        .any(|i| is_wild(pattern, literal, i, b'*') && !star_crosses_colons(pattern, i))
}

fn star_crosses_colons(pattern: &[u8], star_index: usize) -> bool {
    matches!(pattern.get(star_index + 1), None | Some(b':'))
}

/// Length in bytes of the UTF-8 character starting with `lead`.
fn utf8_len(lead: u8) -> usize {
    match lead {
        0x00..=0x7F => 1,
        0xC0..=0xDF => 2,
        0xE0..=0xEF => 3,
        0xF0..=0xFF => 4,
        // A continuation byte never starts a character in valid UTF-8; step over it alone so
        // that even misuse cannot loop forever.
        _ => 1,
    }
}

/// Greedy glob with single-star backtracking; every `*` may match any run of characters.
///
/// Positions in `text` always stay on character boundaries: literal bytes of a valid UTF-8
/// pattern can only match whole characters, and `?`/`*` advance by whole characters.
pub(crate) fn glob_bytes(pattern: &[u8], literal: Option<&[bool]>, text: &[u8]) -> bool {
    let (mut p, mut t) = (0usize, 0usize);
    // (pattern index just after the last `*`, text index that `*` currently stops at)
    let mut backtrack: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() {
            if is_wild(pattern, literal, p, b'*') {
                p += 1;
                backtrack = Some((p, t));
                continue;
            }
            if is_wild(pattern, literal, p, b'?') {
                p += 1;
                t += utf8_len(text[t]);
                continue;
            }
            if pattern[p] == text[t] {
                p += 1;
                t += 1;
                continue;
            }
        }
        match backtrack {
            Some((after_star, star_end)) => {
                let next = (star_end + utf8_len(text[star_end])).min(text.len());
                backtrack = Some((after_star, next));
                p = after_star;
                t = next;
            }
            None => return false,
        }
    }
    while p < pattern.len() && is_wild(pattern, literal, p, b'*') {
        p += 1;
    }
    p == pattern.len()
}

#[derive(Clone, Copy)]
enum Token {
    Literal(char),
    AnyChar,
    /// `crosses_colons` is false for a `*` in the middle of an ARN segment.
    Star {
        crosses_colons: bool,
    },
}

/// Segment-aware ARN glob: a dynamic programme over (pattern token, text character), because
/// stars that cannot cross colons break the greedy matcher's "last star wins" argument.
fn segmented_glob(pattern: &[u8], literal: Option<&[bool]>, text: &[u8]) -> bool {
    let (Ok(pattern_str), Ok(text_str)) = (std::str::from_utf8(pattern), std::str::from_utf8(text))
    else {
        return false;
    };
    let tokens: Vec<Token> = pattern_str
        .char_indices()
        .map(|(i, c)| {
            if is_wild(pattern, literal, i, b'*') {
                Token::Star {
                    crosses_colons: star_crosses_colons(pattern, i),
                }
            } else if is_wild(pattern, literal, i, b'?') {
                Token::AnyChar
            } else {
                Token::Literal(c)
            }
        })
        .collect();
    let chars: Vec<char> = text_str.chars().collect();
    // matched[j]: the tokens consumed so far match the first j characters.
    let mut matched = vec![false; chars.len() + 1];
    matched[0] = true;
    for token in tokens {
        match token {
            Token::Star { crosses_colons } => {
                for j in 1..=chars.len() {
                    if !matched[j] && matched[j - 1] && (crosses_colons || chars[j - 1] != ':') {
                        matched[j] = true;
                    }
                }
            }
            Token::AnyChar | Token::Literal(_) => {
                for j in (1..=chars.len()).rev() {
                    matched[j] = matched[j - 1]
                        && match token {
                            Token::Literal(c) => chars[j - 1] == c,
                            _ => true,
                        };
                }
                matched[0] = false;
            }
        }
    }
    matched[chars.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case("*", "", true)]
    #[case("*", "anything", true)]
    #[case("", "", true)]
    #[case("", "a", false)]
    #[case("a?c", "abc", true)]
    #[case("a?c", "ac", false)]
    #[case("a*c", "abbbc", true)]
    #[case("a*c", "abbbd", false)]
    #[case("*a*b*", "xxaxxbxx", true)]
    #[case("kms:reencrypt*", "kms:reencryptfrom", true)]
    #[case("kms:generatedatakey*", "kms:generatedatakeywithoutplaintext", true)]
    #[case("iam:*", "iam:createuser", true)]
    #[case("iam:*", "iamx:createuser", false)]
    #[case("?", "é", true)]
    #[case("??", "é", false)]
    #[case("*??", "é", false)]
    #[case("a*é", "abcé", true)]
    #[case("abc", "ABC", false)]
    fn plain_globs(#[case] pattern: &str, #[case] text: &str, #[case] expected: bool) {
        assert_eq!(
            wildcard_match(pattern, text),
            expected,
            "{pattern} vs {text}"
        );
    }

    #[rstest]
    #[case("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/a/b:c", true)]
    #[case(
        "arn:aws:logs:*",
        "arn:aws:logs:us-east-1:123456789012:log-group:x",
        true
    )]
    #[case("arn:aws:iam::*:role/R", "arn:aws:iam::123456789012:role/R", true)]
    #[case(
        "arn:aws:ec2:*:instance/i-1",
        "arn:aws:ec2:us-east-1:123456789012:instance/i-1",
        true
    )]
    #[case("arn:aws:s3:::bucket/a*b", "arn:aws:s3:::bucket/a/x/b", true)]
    #[case("arn:aws:s3:::bucket/a*b", "arn:aws:s3:::bucket/a:b", false)]
    #[case(
        "arn:aws:iam::123456789012:user/Bob",
        "arn:aws:iam::123456789012:user/bob",
        false
    )]
    #[case("arn:aws:iam::123456789012:role/*", "*", false)]
    #[case("*", "*", true)]
    fn arn_globs(#[case] pattern: &str, #[case] value: &str, #[case] expected: bool) {
        assert_eq!(arn_match(pattern, value), expected, "{pattern} vs {value}");
        let shape = PatternShape::of_arn(pattern);
        assert_eq!(
            arn_with_shape(shape, pattern, value),
            expected,
            "shaped {pattern} vs {value}"
        );
    }

    proptest::proptest! {
        #[test]
        fn shaped_matchers_agree_with_unshaped_ones(
            pattern in "[ab:/é*?]{0,8}",
            text in "[ab:/é]{0,10}",
        ) {
            proptest::prop_assert_eq!(
                glob_with_shape(PatternShape::of_glob(&pattern), &pattern, &text),
                wildcard_match(&pattern, &text)
            );
            proptest::prop_assert_eq!(
                arn_with_shape(PatternShape::of_arn(&pattern), &pattern, &text),
                arn_match(&pattern, &text)
            );
        }
    }

    #[test]
    fn literal_mask_keeps_inserted_stars_literal() {
        let pattern = b"user/a*b";
        let mut mask = vec![false; pattern.len()];
        mask[6] = true;
        assert!(glob_bytes(pattern, Some(&mask), b"user/a*b"));
        assert!(!glob_bytes(pattern, Some(&mask), b"user/axxb"));
        assert!(glob_bytes(pattern, None, b"user/axxb"));
    }
}
