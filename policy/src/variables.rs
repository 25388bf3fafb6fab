//! Policy variables: `${aws:username}`, `${key, 'default'}` and the escapes `${*}`, `${?}`,
//! `${$}`.
//!
//! Rules (IAM User Guide, "IAM policy elements: Variables and tags"):
//! * variables are live only when the document says `"Version": "2012-10-17"`; otherwise the
//!   text `${aws:username}` is literal (callers check that before calling in here);
//! * the key name is case-insensitive; a key that is absent, empty or multivalued cannot be
//!   substituted, and then the default value is used if one is given;
//! * in a default value `''` stands for one quote;
//! * only one round of substitution happens, and inserted text never acts as a wildcard: a user
//!   name or tag value containing `*` matches only itself. That is why substitution returns a
//!   literal mask along with the text.

use crate::context::RequestContext;

/// A template after substitution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Substituted {
    pub text: String,
    /// `literal[i]` is true when byte `i` of `text` was inserted and must match itself.
    pub literal: Vec<bool>,
}

enum Variable<'a> {
    /// `${*}`, `${?}`, `${$}`.
    Escaped(char),
    Key {
        name: &'a str,
        default: Option<String>,
    },
}

/// Substitutes every variable of `template`. `None` when one cannot be resolved, which makes
/// the Resource entry or condition value holding it match nothing.
pub(crate) fn substitute(template: &str, context: &RequestContext) -> Option<Substituted> {
    let mut text = String::with_capacity(template.len() + 16);
    let mut literal = Vec::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(start) = rest.find("${") {
        push(&mut text, &mut literal, &rest[..start], false);
        let after = &rest[start + 2..];
        match parse_variable(after) {
            Some((variable, consumed)) => {
                match variable {
                    Variable::Escaped(c) => {
                        let mut buf = [0u8; 4];
                        push(&mut text, &mut literal, c.encode_utf8(&mut buf), true);
                    }
                    Variable::Key { name, default } => {
                        let value = match context.values(name) {
                            Some([single]) => single.as_str(),
                            _ => default.as_deref()?,
                        };
                        push(&mut text, &mut literal, value, true);
                    }
                }
                rest = &after[consumed..];
            }
            None => {
                // Not a well-formed variable: the characters are ordinary text.
                push(&mut text, &mut literal, "${", false);
                rest = after;
            }
        }
    }
    push(&mut text, &mut literal, rest, false);
    Some(Substituted { text, literal })
}

fn push(text: &mut String, literal: &mut Vec<bool>, piece: &str, is_literal: bool) {
    text.push_str(piece);
    literal.extend(std::iter::repeat_n(is_literal, piece.len()));
}

/// Parses what follows `${`; returns the variable and the bytes consumed including `}`.
fn parse_variable(s: &str) -> Option<(Variable<'_>, usize)> {
    let end_of_name = s.find([',', '}'])?;
    let name = s[..end_of_name].trim();
    if s.as_bytes()[end_of_name] == b'}' {
        let variable = match name {
            "*" => Variable::Escaped('*'),
            "?" => Variable::Escaped('?'),
            "$" => Variable::Escaped('$'),
            _ => Variable::Key {
                name,
                default: None,
            },
        };
        return Some((variable, end_of_name + 1));
    }
    // `${name, 'default'}`
    let after_comma = &s[end_of_name + 1..];
    let quoted = after_comma.trim_start();
    let quote_start = end_of_name + 1 + (after_comma.len() - quoted.len());
    if !quoted.starts_with('\'') {
        return None;
    }
    let mut default = String::new();
    let mut closing_quote = None;
    let bytes = quoted.as_bytes();
    let mut i = 1;
    while i < bytes.len() {
        if bytes[i] == b'\'' {
            if bytes.get(i + 1) == Some(&b'\'') {
                default.push('\'');
                i += 2;
                continue;
            }
            closing_quote = Some(i);
            break;
        }
        let c = quoted[i..].chars().next()?;
        default.push(c);
        i += c.len_utf8();
    }
    let closing_quote = closing_quote?;
    let tail = &quoted[closing_quote + 1..];
    let tail_trimmed = tail.trim_start();
    if !tail_trimmed.starts_with('}') {
        return None;
    }
    let consumed = quote_start + closing_quote + 1 + (tail.len() - tail_trimmed.len()) + 1;
    Some((
        Variable::Key {
            name,
            default: Some(default),
        },
        consumed,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::PrincipalInfo;
    use rstest::rstest;

    fn context() -> RequestContext {
        RequestContext::new(
            PrincipalInfo::user("111122223333", "arn:aws:iam::111122223333:user/Bob"),
            "s3:GetObject",
            "*",
        )
        .with_key("aws:username", "Bob")
        .with_key("aws:PrincipalTag/team", "a*b")
        .with_multi("aws:TagKeys", vec!["x".into(), "y".into()])
    }

    #[rstest]
    #[case("home/${aws:username}/*", Some("home/Bob/*"))]
    #[case("home/${AWS:USERNAME}", Some("home/Bob"))]
    #[case("${ aws:username }", Some("Bob"))]
    #[case("x${*}y${?}z${$}", Some("x*y?z$"))]
    #[case("${aws:missing}", None)]
    #[case("${aws:missing, 'anon'}", Some("anon"))]
    #[case("${aws:missing,'it''s'}", Some("it's"))]
    #[case("${aws:username, 'anon'}", Some("Bob"))]
    #[case("${aws:TagKeys}", None)]
    #[case("${aws:TagKeys, 'multi'}", Some("multi"))]
    #[case("${aws:missing, '${aws:username}'}", Some("${aws:username}"))]
    #[case("price: $5 and ${", Some("price: $5 and ${"))]
    #[case("${unterminated", Some("${unterminated"))]
    fn substitution(#[case] template: &str, #[case] expected: Option<&str>) {
        let got = substitute(template, &context());
        assert_eq!(
            got.as_ref().map(|s| s.text.as_str()),
            expected,
            "{template}"
        );
        if let Some(s) = got {
            assert_eq!(s.text.len(), s.literal.len());
        }
    }

    #[test]
    fn inserted_text_is_marked_literal() {
        let s = substitute("t/${aws:PrincipalTag/team}/*", &context()).unwrap();
        assert_eq!(s.text, "t/a*b/*");
        assert_eq!(
            s.literal,
            vec![false, false, true, true, true, false, false]
        );
    }
}
