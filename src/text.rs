//! Text helpers for the per-record paths.

/// [`str::trim`] with a fast path.
///
/// Nearly every field a reader meets already begins and ends with a visible
/// ASCII character; the general trim still decodes a character at each end
/// and tests it against Unicode's whitespace, which came to about 5% of a
/// batch run's instructions. The result is always exactly `str::trim`'s.
pub trait Trim {
    /// The text without leading and trailing whitespace.
    fn trimmed(&self) -> &str;
}

impl Trim for str {
    #[inline]
    fn trimmed(&self) -> &str {
        match (self.as_bytes().first(), self.as_bytes().last()) {
            (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => {
                self
            }
            _ => self.trim(),
        }
    }
}

/// A lower_snake_case word (`type_2_diabetes`): a lowercase ASCII letter,
/// then lowercase letters, digits and underscores. A fact path is such
/// words joined by dots; an open enum (indications) takes any such word.
pub fn is_snake_word(text: &str) -> bool {
    text.starts_with(|c: char| c.is_ascii_lowercase())
        && text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

#[cfg(test)]
mod tests {
    use super::{Trim, is_snake_word};

    #[test]
    fn snake_words() {
        for word in ["acne", "type_2_diabetes", "dvt_treatment", "a1"] {
            assert!(is_snake_word(word), "{word}");
        }
        for word in [
            "",
            "Acne",
            "2nd_line",
            "_x",
            "dvt-treatment",
            "hip replacement",
            "é",
        ] {
            assert!(!is_snake_word(word), "{word}");
        }
    }

    #[test]
    fn agrees_with_str_trim() {
        let cases = [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\n",
            "20 mg",
            "\u{a0}20 mg",
            "20 mg\u{a0}",
            "\u{2003}x\u{3000}",
            "\u{feff}x",
            "x\u{85}",
            "\r\n",
            "é",
            " é ",
            "\u{0}x\u{7f}",
            "~!",
            "a b",
        ];
        for case in cases {
            assert_eq!(case.trimmed(), case.trim(), "{case:?}");
        }
    }
}
