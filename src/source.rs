//! Source texts and byte spans.
//!
//! Every rule-file expression and every regimen field keeps a [`Span`] into the
//! [`SourceFile`] it came from, so that any diagnostic can underline it.

use std::fmt;
use std::sync::Arc;

use miette::{MietteError, SourceCode, SpanContents};

/// `name:line`, how output names where a record is (built for every
/// record of a batch: one allocation, no `format!`).
pub fn position(name: &str, line: usize) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(name.len() + 8);
    out.push_str(name);
    out.push(':');
    let _ = write!(out, "{line}");
    out
}

/// A named text that diagnostics can quote: a rule file, a regimen file, or
/// the text of one batch record.
pub struct SourceFile {
    name: Arc<str>,
    text: String,
    /// Lines before `text` in the file it was cut from (a batch record).
    first_line: usize,
    /// Built on first use, so that finding the line of each of many
    /// records is a binary search, not a rescan.
    lines: std::sync::OnceLock<LineIndex>,
}

impl SourceFile {
    /// Wraps `text` under a display `name` (usually the path as the user gave it).
    pub fn new(name: impl Into<Arc<str>>, text: impl Into<String>) -> Arc<Self> {
        Self::at_line(name, text, 1)
    }

    /// The text of one record that starts on 1-based line `line` of file
    /// `name`, so that diagnostics show the file's own line numbers.
    pub fn at_line(name: impl Into<Arc<str>>, text: impl Into<String>, line: usize) -> Arc<Self> {
        Arc::new(Self {
            name: name.into(),
            text: text.into(),
            first_line: line.saturating_sub(1),
            lines: std::sync::OnceLock::new(),
        })
    }

    /// The display name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The whole text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text under `span`, or `""` when the span does not fit the text.
    pub fn slice(&self, span: Span) -> &str {
        self.text.get(span.range()).unwrap_or("")
    }

    /// The index of the text's lines.
    fn lines(&self) -> &LineIndex {
        self.lines.get_or_init(|| LineIndex::new(&self.text))
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        let lines = self.lines();
        let index = lines.line_of(offset);
        let line_start = lines.start(index).unwrap_or(0);
        let column = self
            .text
            .get(line_start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        (index + 1 + self.first_line, column)
    }
}

/// Byte offsets where the lines of a text start: the one line index, for a
/// diagnostic's line and column and for the line of each record of a file.
#[derive(Clone, Debug)]
pub struct LineIndex(Vec<usize>);

impl LineIndex {
    /// The line starts of `text` (a line ends after each `\n`).
    pub fn new(text: &str) -> Self {
        Self(
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect(),
        )
    }

    /// The 0-based line holding byte `offset`.
    pub fn line_of(&self, offset: usize) -> usize {
        self.0.partition_point(|&s| s <= offset).saturating_sub(1)
    }

    /// Where 0-based line `line` starts, if the text has it.
    pub fn start(&self, line: usize) -> Option<usize> {
        self.0.get(line).copied()
    }
}

impl fmt::Debug for SourceFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SourceFile")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // Hand `str` only the lines around the span (one spare each side),
        // found with the line index: scanning from the start of a large
        // file for every label made rendering quadratic.
        let lines = self.lines();
        let len = self.text.len();
        let start = span.offset();
        let end = start.saturating_add(span.len());
        if end > len {
            return Err(MietteError::OutOfBounds);
        }
        let first = lines
            .line_of(start)
            .saturating_sub(context_lines_before.saturating_add(1));
        let last = lines
            .line_of(end)
            .saturating_add(context_lines_after)
            .saturating_add(1);
        let lo = lines.start(first).unwrap_or(0);
        let hi = lines.start(last.saturating_add(1)).unwrap_or(len);
        let window = self.text.get(lo..hi).ok_or(MietteError::OutOfBounds)?;
        let local = miette::SourceSpan::new((start - lo).into(), span.len());
        let inner = window.read_span(&local, context_lines_before, context_lines_after)?;
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            miette::SourceSpan::new((inner.span().offset() + lo).into(), inner.span().len()),
            inner.line() + first + self.first_line,
            inner.column(),
            // `str` counts lines from the start of its text.
            inner.line_count() + first,
        )))
    }
}

/// A half-open byte range `[start, end)` in a [`SourceFile`].
///
/// Offsets are kept in 32 bits: a regimen carries a span for every fact,
/// and every text rxlint reads whole is at most 64 MiB (a batch streams by
/// record). An offset past 4 GiB saturates, pointing at the end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Span {
    start: u32,
    end: u32,
}

impl Span {
    /// A span from `start` to `end`; a reversed pair is normalised.
    pub fn new(start: usize, end: usize) -> Self {
        let narrow = |x: usize| u32::try_from(x).unwrap_or(u32::MAX);
        Self {
            start: narrow(start.min(end)),
            end: narrow(end.max(start)),
        }
    }

    /// First byte.
    pub fn start(self) -> usize {
        self.start as usize
    }

    /// One past the last byte.
    pub fn end(self) -> usize {
        self.end as usize
    }

    /// The smallest span covering both.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// This span moved `by` bytes to the right (for text embedded in a larger file).
    pub fn offset(self, by: usize) -> Span {
        Span::new(
            self.start().saturating_add(by),
            self.end().saturating_add(by),
        )
    }

    /// The byte range.
    pub fn range(self) -> std::ops::Range<usize> {
        self.start()..self.end()
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(span: Span) -> Self {
        (span.start(), span.end() - span.start()).into()
    }
}

/// A value and where it was written. Equality ignores the span, so two
/// values written in different places compare equal.
#[derive(Clone, Debug)]
pub struct Spanned<T> {
    /// The value.
    pub value: T,
    /// Where it was written.
    pub span: Span,
}

impl<T> Spanned<T> {
    /// Pairs a value with its span.
    pub fn new(value: T, span: Span) -> Self {
        Self { value, span }
    }

    /// Applies `f` to the value, keeping the span.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Spanned<U> {
        Spanned::new(f(self.value), self.span)
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

/// The files under `dir` whose extension is one of `extensions`, entering
/// each real directory once, so that a symlink loop (`ln -s . a`) can
/// neither hang the walk nor repeat a file. Rule directories and input
/// directories are both read this way.
pub fn walk(
    dir: &std::path::Path,
    extensions: &[&str],
    out: &mut Vec<std::path::PathBuf>,
) -> std::io::Result<()> {
    fn walk_once(
        dir: &std::path::Path,
        extensions: &[&str],
        out: &mut Vec<std::path::PathBuf>,
        seen: &mut std::collections::HashSet<std::path::PathBuf>,
    ) -> std::io::Result<()> {
        if !seen.insert(std::fs::canonicalize(dir)?) {
            return Ok(());
        }
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.is_dir() {
                walk_once(&path, extensions, out, seen)?;
            } else if path
                .extension()
                .and_then(|e| e.to_str())
                .is_some_and(|e| extensions.contains(&e))
            {
                out.push(path);
            }
        }
        Ok(())
    }
    walk_once(dir, extensions, out, &mut std::collections::HashSet::new())
}

#[cfg(test)]
mod span_tests {
    use super::Span;

    #[test]
    fn positions_are_name_colon_line() {
        for line in [0, 1, 9, 10, 99, 100, 123_456, usize::MAX] {
            assert_eq!(super::position("in.csv", line), format!("in.csv:{line}"));
        }
        assert_eq!(super::position("", 7), ":7");
    }

    #[test]
    fn offsets_past_32_bits_saturate_in_order() {
        let s = Span::new(7, 3);
        assert_eq!((s.start(), s.end()), (3, 7));
        let far = Span::new(5, usize::MAX);
        assert_eq!((far.start(), far.end()), (5, u32::MAX as usize));
        let moved = Span::new(1, 2).offset(usize::MAX);
        assert!(moved.start() <= moved.end());
        assert_eq!(moved.end(), u32::MAX as usize);
        assert_eq!(Span::new(2, 4).to(Span::new(3, 9)).range(), 2..9);
    }
}
