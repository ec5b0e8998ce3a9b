//! `--format human`: miette diagnostics per regimen and a summary line.

use std::fmt::Write as _;

use miette::{GraphicalReportHandler, GraphicalTheme};

use super::diagnostics;
use crate::diagnostic::Diagnostic;
use crate::eval::Outcome;

/// How to draw diagnostics.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// ANSI colours.
    pub color: bool,
    /// Line width to wrap at.
    pub width: usize,
}

impl Style {
    /// Plain text at a fixed width, as the golden tests use.
    pub const PLAIN: Style = Style {
        color: false,
        width: 100,
    };
}

/// Renders one diagnostic.
pub fn render(diagnostic: &Diagnostic, style: Style) -> String {
    let theme = if style.color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(style.width)
        .with_links(false);
    let mut out = String::new();
    if handler.render_report(&mut out, diagnostic).is_err() {
        let _ = writeln!(out, "{}: {}", diagnostic.code, diagnostic.message);
    }
    out
}

/// Renders one regimen's outcome: a header line, then each diagnostic.
pub fn outcome(outcome: &Outcome<'_>, style: Style) -> String {
    let r = &outcome.regimen;
    let mut out = format!("{} ({}): {}\n", r.id, r.input, outcome.verdict.as_str());
    for d in diagnostics(outcome) {
        out.push_str(&render(&d, style));
        out.push('\n');
    }
    out
}
