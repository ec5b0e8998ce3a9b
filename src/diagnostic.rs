//! One diagnostic type for everything rxlint shows a person: rule-file
//! problems, input problems and rule findings all become a [`Diagnostic`]
//! and are rendered by miette.

use std::fmt;
use std::sync::Arc;

use crate::source::{SourceFile, Span};

/// How serious a diagnostic is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    /// For information only.
    Info,
    /// Needs a look.
    Warning,
    /// Must be fixed.
    Error,
}

impl Level {
    /// The name used in JSON and CSV output, as a rule's severity is.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

/// A labelled span.
#[derive(Clone, Debug)]
pub struct Label {
    /// Where.
    pub span: Span,
    /// What to say under it.
    pub text: String,
}

/// A located, explained problem or finding.
#[derive(Clone, Debug)]
pub struct Diagnostic {
    /// Stable code (`isotretinoin.max-daily-dose`, `input.missing-unit`, `rules.unknown-key`).
    pub code: String,
    /// Severity.
    pub level: Level,
    /// One line.
    pub message: String,
    /// The text the labels point into.
    pub source: Option<Arc<SourceFile>>,
    /// The first label is the primary one.
    pub labels: Vec<Label>,
    /// What to do, and where the rule comes from.
    pub help: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with no labels.
    pub fn new(code: impl Into<String>, level: Level, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            level,
            message: message.into(),
            source: None,
            labels: Vec::new(),
            help: None,
        }
    }

    /// Points at `span` in `source`.
    pub fn at(mut self, source: &Arc<SourceFile>, span: Span, label: impl Into<String>) -> Self {
        self.source = Some(source.clone());
        self.labels.push(Label {
            span,
            text: label.into(),
        });
        self
    }

    /// Adds help text.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// 1-based line and column of the primary label.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        let source = self.source.as_ref()?;
        let label = self.labels.first()?;
        Some(source.line_col(label.span.start()))
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.level {
            Level::Info => miette::Severity::Advice,
            Level::Warning => miette::Severity::Warning,
            Level::Error => miette::Severity::Error,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_deref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let text_len = self.source.as_ref().map_or(0, |s| s.text().len());
        let labels = self.labels.iter().enumerate().map(move |(i, label)| {
            // Clamp so that a stale span can never make the renderer fail.
            let start = label.span.start().min(text_len);
            let end = label.span.end().clamp(start, text_len);
            let span = (start, end - start);
            if i == 0 {
                miette::LabeledSpan::new_primary_with_span(Some(label.text.clone()), span)
            } else {
                miette::LabeledSpan::new_with_span(Some(label.text.clone()), span)
            }
        });
        if self.source.is_some() && !self.labels.is_empty() {
            Some(Box::new(labels))
        } else {
            None
        }
    }
}

/// Longest excerpt of an input value quoted in a message.
const EXCERPT_CHARS: usize = 60;

/// `text` for quoting in a message: whole when short, else its start and an
/// ellipsis, so that a multi-megabyte value cannot flood a report.
pub fn excerpt(text: &str) -> String {
    if text.chars().count() <= EXCERPT_CHARS {
        return text.to_owned();
    }
    let head: String = text.chars().take(EXCERPT_CHARS - 1).collect();
    format!("{head}…")
}
