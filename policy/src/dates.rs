//! Date values of the `Date...` condition operators and of date condition keys.
//!
//! IAM documents "the W3C implementation of the ISO 8601 date formats" plus epoch seconds
//! (IAM User Guide, "Condition operators", Date condition operators). The W3C profile
//! (<https://www.w3.org/TR/NOTE-datetime>) has partial dates (`YYYY`, `YYYY-MM`) and offsets
//! (`+hh:mm`); IAM's parser, measured against AWS in issue 13, also takes a signed year
//! (`+2024-01-01`), a lower-case `t` and `z`, offsets without a colon or without minutes, and a
//! time of hours only. Accepted here:
//!
//! * epoch seconds, optionally with a fraction: `1718000000`, `1718000000.5`;
//! * `[+|-]YYYY[-MM[-DD]]` (four digits unless signed, then four to nine);
//! * a complete date followed by `T`/`t` and `hh[:mm[:ss[(.|,)fraction]]]`, then optionally `Z`,
//!   `z`, `+hh`, `+hhmm` or `+hh:mm` (or `-`);
//! * a date without a time followed by `Z`/`z` (accepted before this module existed; kept).
//!
//! A bare four-digit string such as `2024` is all digits and therefore read as epoch seconds,
//! as before: AWS does not document which reading wins, and epoch seconds are the documented
//! form.

use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};

/// Parses a date as IAM does; `None` when IAM would refuse it ("The policy failed legacy
/// parsing" when written in a policy).
pub(crate) fn parse_date(raw: &str) -> Option<DateTime<Utc>> {
    let s = raw.trim();
    if s.is_empty() {
        return None;
    }
    if s.bytes().all(|b| b.is_ascii_digit()) {
        let seconds: i64 = s.parse().ok()?;
        return DateTime::from_timestamp(seconds, 0);
    }
    if let Some((whole, fraction)) = s.split_once('.') {
        if !whole.is_empty()
            && whole.bytes().all(|b| b.is_ascii_digit())
            && !fraction.is_empty()
            && fraction.len() <= 9
            && fraction.bytes().all(|b| b.is_ascii_digit())
        {
            let seconds: i64 = whole.parse().ok()?;
            let nanos: u32 = format!("{fraction:0<9}").parse().ok()?;
            return DateTime::from_timestamp(seconds, nanos);
        }
    }
    Iso::new(s).parse()
}

/// A cursor over an ISO 8601 text.
struct Iso<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Iso<'a> {
    fn new(text: &'a str) -> Iso<'a> {
        Iso {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn eat(&mut self, wanted: &[u8]) -> Option<u8> {
        let next = self.peek().filter(|b| wanted.contains(b))?;
        self.at += 1;
        Some(next)
    }

    /// Exactly `count` digits as a number.
    fn digits(&mut self, count: usize) -> Option<u32> {
        let end = self.at.checked_add(count)?;
        let slice = self.bytes.get(self.at..end)?;
        if !slice.iter().all(u8::is_ascii_digit) {
            return None;
        }
        self.at = end;
        slice.iter().try_fold(0u32, |n, d| {
            n.checked_mul(10)?.checked_add(u32::from(d - b'0'))
        })
    }

    /// As many digits as follow (at least one).
    fn run_of_digits(&mut self) -> &'a [u8] {
        let start = self.at;
        while self.peek().is_some_and(|b| b.is_ascii_digit()) {
            self.at += 1;
        }
        &self.bytes[start..self.at]
    }

    fn parse(mut self) -> Option<DateTime<Utc>> {
        let year = self.year()?;
        let mut month = 1;
        let mut day = 1;
        let mut complete = false;
        if self.eat(b"-").is_some() {
            month = self.digits(2)?;
            if self.eat(b"-").is_some() {
                day = self.digits(2)?;
                complete = true;
            }
        }
        let date = NaiveDate::from_ymd_opt(year, month, day)?;
        let mut time = NaiveTime::MIN;
        let mut offset_seconds = 0i64;
        if complete && self.eat(b"Tt").is_some() {
            time = self.time()?;
            offset_seconds = self.offset()?;
        } else if self.eat(b"Zz").is_some() {
            // A date alone may carry `Z`.
        }
        if self.at != self.bytes.len() {
            return None;
        }
        let local = date.and_time(time).and_utc();
        local.checked_sub_signed(Duration::seconds(offset_seconds))
    }

    fn year(&mut self) -> Option<i32> {
        let negative = match self.eat(b"+-") {
            Some(b'-') => true,
            Some(_) => false,
            None => {
                let year = self.digits(4)?;
                return i32::try_from(year).ok();
            }
        };
        let digits = self.run_of_digits();
        if !(4..=9).contains(&digits.len()) {
            return None;
        }
        let magnitude: i32 = std::str::from_utf8(digits).ok()?.parse().ok()?;
        Some(if negative { -magnitude } else { magnitude })
    }

    fn time(&mut self) -> Option<NaiveTime> {
        let hour = self.digits(2)?;
        let (mut minute, mut second, mut nanos) = (0, 0, 0);
        if self.eat(b":").is_some() {
            minute = self.digits(2)?;
            if self.eat(b":").is_some() {
                second = self.digits(2)?;
                if self.eat(b".,").is_some() {
                    let fraction = self.run_of_digits();
                    if fraction.is_empty() || fraction.len() > 9 {
                        return None;
                    }
                    let text = std::str::from_utf8(fraction).ok()?;
                    nanos = format!("{text:0<9}").parse().ok()?;
                }
            }
        }
        NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
    }

    /// Seconds east of UTC; 0 when there is no zone designator.
    fn offset(&mut self) -> Option<i64> {
        match self.eat(b"Zz+-") {
            None | Some(b'Z' | b'z') => Some(0),
            Some(sign) => {
                let hours = self.digits(2)?;
                // `+hh:mm`, `+hhmm` or `+hh`.
                let colon = self.eat(b":").is_some();
                let minutes = if colon || self.peek().is_some_and(|b| b.is_ascii_digit()) {
                    self.digits(2)?
                } else {
                    0
                };
                if hours > 23 || minutes > 59 {
                    return None;
                }
                let seconds = i64::from(hours * 3600 + minutes * 60);
                Some(if sign == b'-' { -seconds } else { seconds })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn w3c_forms_and_what_iam_adds() {
        for (raw, expected) in [
            ("2024-06-01T12:00:00Z", "2024-06-01T12:00:00Z"),
            ("2024-06-01t12:00:00z", "2024-06-01T12:00:00Z"),
            ("2024-06-01T12:00:00.250Z", "2024-06-01T12:00:00.250Z"),
            ("2024-06-01T12:00:00,5Z", "2024-06-01T12:00:00.5Z"),
            ("2024-06-01T12:00+02:00", "2024-06-01T10:00:00Z"),
            ("2024-06-01T12:00:00-0130", "2024-06-01T13:30:00Z"),
            ("2024-06-01T12+05", "2024-06-01T07:00:00Z"),
            ("2024-06-01T12", "2024-06-01T12:00:00Z"),
            ("2024-06-01", "2024-06-01T00:00:00Z"),
            ("2024-06-01Z", "2024-06-01T00:00:00Z"),
            ("2024-06", "2024-06-01T00:00:00Z"),
            ("+2024-06-01T00:00:00Z", "2024-06-01T00:00:00Z"),
            ("+002024-06", "2024-06-01T00:00:00Z"),
            ("1717243200", "2024-06-01T12:00:00Z"),
        ] {
            assert_eq!(parse_date(raw), Some(utc(expected)), "{raw}");
        }
        assert!(parse_date("-0001-01-01").is_some());
    }

    #[test]
    fn refused_forms() {
        for raw in [
            "tomorrow",
            "",
            "2024-6-01",
            "24-06-01",
            "2024-13-01",
            "2024-02-30",
            "2024-06-01 12:00:00Z",
            "2024-06T12:00",
            "2024-06-01T25:00",
            "2024-06-01T12:00:00+24:00",
            "2024-06-01T12:00:00Zjunk",
            "+202-01-01",
            "2024-06-01T12:00:00.Z",
        ] {
            assert_eq!(parse_date(raw), None, "{raw}");
        }
    }
}
