//! Where each statement of a policy document is: the `StartPosition` and `EndPosition` of the
//! simulator's `MatchedStatements`.
//!
//! AWS's positions, read off its answers (the AWS CLI's `simulate-custom-policy` example, and a
//! recorded `SimulatePrincipalPolicy` answer for a `json.dumps` document): lines count from 1,
//! and both columns name the character just after the statement's brace, counted from 1 — for
//! `{"Version":"2012-10-17","Statement":{...}}` of 167 characters the statement spans columns
//! 38 to 167. Not confirmed: the columns of a statement on a later line, taken the same way.

/// The byte offsets of the opening and closing brace of every statement, in order: the
/// elements of a `Statement` array, or the `Statement` object itself. Empty for text that is
/// not a JSON object (the parser refused such documents before they got here).
pub fn statement_spans(text: &str) -> Vec<(usize, usize)> {
    let mut scanner = Scanner { bytes: text.as_bytes(), at: 0 };
    scanner.top_level_statements().unwrap_or_default()
}

/// `(line, column)` of the character after the byte at `offset`, as the simulator counts.
pub fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = text[line_start..offset.min(text.len())].chars().count() + 2;
    (line, column)
}

struct Scanner<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Scanner<'_> {
    fn skip_space(&mut self) {
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn peek(&mut self) -> Option<u8> {
        self.skip_space();
        self.bytes.get(self.at).copied()
    }

    fn expect(&mut self, byte: u8) -> Option<()> {
        (self.peek()? == byte).then(|| self.at += 1)
    }

    /// A string; returns its contents (escapes left as written).
    fn string(&mut self) -> Option<&str> {
        self.expect(b'"')?;
        let start = self.at;
        loop {
            match self.bytes.get(self.at)? {
                b'\\' => self.at += 2,
                b'"' => break,
                _ => self.at += 1,
            }
        }
        let text = std::str::from_utf8(&self.bytes[start..self.at]).ok()?;
        self.at += 1;
        Some(text)
    }

    /// Skips one value; returns its first and last byte offsets.
    fn value(&mut self) -> Option<(usize, usize)> {
        let start = {
            self.skip_space();
            self.at
        };
        match self.peek()? {
            b'"' => {
                self.string()?;
            }
            open @ (b'{' | b'[') => {
                let close = if open == b'{' { b'}' } else { b']' };
                self.at += 1;
                if self.peek()? != close {
                    loop {
                        if open == b'{' {
                            self.string()?;
                            self.expect(b':')?;
                        }
                        self.value()?;
                        match self.peek()? {
                            b',' => self.at += 1,
                            _ => break,
                        }
                    }
                }
                self.expect(close)?;
            }
            _ => {
                while self.bytes.get(self.at).is_some_and(|b| !b",}] \t\r\n".contains(b)) {
                    self.at += 1;
                }
            }
        }
        Some((start, self.at.saturating_sub(1)))
    }

    fn top_level_statements(&mut self) -> Option<Vec<(usize, usize)>> {
        self.expect(b'{')?;
        loop {
            if self.peek()? == b'}' {
                return Some(Vec::new());
            }
            let key = self.string()?.to_string();
            self.expect(b':')?;
            if key == "Statement" {
                return self.statements();
            }
            self.value()?;
            match self.peek()? {
                b',' => self.at += 1,
                _ => return Some(Vec::new()),
            }
        }
    }

    fn statements(&mut self) -> Option<Vec<(usize, usize)>> {
        if self.peek()? == b'{' {
            return Some(vec![self.value()?]);
        }
        self.expect(b'[')?;
        let mut spans = Vec::new();
        if self.peek()? == b']' {
            return Some(spans);
        }
        loop {
            spans.push(self.value()?);
            match self.peek()? {
                b',' => self.at += 1,
                _ => return Some(spans),
            }
        }
    }
}
