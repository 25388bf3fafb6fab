//! Long texts come as Markdown pairs, `x.md` and `x.ja.md`: the same document in two languages.

/// Checks that `ja` is the translation of `en` in shape: the same number of headings at each
/// level, the same fenced code blocks (commands and policies are not translated), and Japanese
/// text in it. Returns what differs, in words.
pub fn check_markdown_pair(en: &str, ja: &str) -> Result<(), String> {
    let mut problems = Vec::new();
    for level in 1..=4 {
        let prefix = format!("{} ", "#".repeat(level));
        let count = |text: &str| text.lines().filter(|l| l.starts_with(&prefix)).count();
        let (e, j) = (count(en), count(ja));
        if e != j {
            problems.push(format!("{e} level-{level} headings in English, {j} in Japanese"));
        }
    }
    let (en_code, ja_code) = (code_blocks(en), code_blocks(ja));
    if en_code != ja_code {
        problems.push(format!(
            "the fenced code blocks differ ({} in English, {} in Japanese, or their contents)",
            en_code.len(),
            ja_code.len()
        ));
    }
    if !has_japanese(ja) {
        problems.push("the Japanese text has no Japanese in it".to_string());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

fn code_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            match current.take() {
                Some(block) => blocks.push(block),
                None => current = Some(String::new()),
            }
        } else if let Some(block) = current.as_mut() {
            block.push_str(line);
            block.push('\n');
        }
    }
    blocks
}

/// Whether `text` has hiragana, katakana or kanji in it.
pub fn has_japanese(text: &str) -> bool {
    text.chars().any(|c| {
        ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c)
    })
}
