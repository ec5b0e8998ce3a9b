//! `rxlint explain CODE`: what a diagnostic code means, what triggers it
//! and how to fix it, from the [`codes`](crate::codes) registry, as `rustc
//! --explain` does. A rule id is handed to `rules explain`; `--list` prints
//! every code with its summary.

use std::path::Path;

use super::rules::explain as explain_rule;
use super::{Exit, fail, rules_or_exit};
use crate::codes::AnyCode;

pub(super) fn explain(code: Option<&str>, list: bool, rules: Option<&Path>) -> Exit {
    if list {
        let width = AnyCode::all().map(|c| c.as_str().len()).max().unwrap_or(0);
        for code in AnyCode::all() {
            out!("{:<width$}  {}", code.as_str(), code.summary());
        }
        return Exit::Clean;
    }
    let Some(text) = code else {
        return fail(
            "name a code to explain (`rxlint explain input.missing-unit`), or give --list",
        );
    };
    if let Ok(code) = text.parse::<AnyCode>() {
        out!("{}", code.explain().trim_end());
        return Exit::Clean;
    }
    // Not a code: perhaps a rule id, which `rules explain` knows.
    let set = match rules_or_exit(rules) {
        Ok(set) => set,
        Err(exit) => return exit,
    };
    if set.rules().any(|r| r.id == text) {
        return explain_rule(rules, text);
    }
    let mut names: Vec<&str> = AnyCode::all().map(AnyCode::as_str).collect();
    names.extend(set.rules().map(|r| r.id.as_str()));
    fail(format!(
        "`{text}` is neither a diagnostic code nor a rule id{} (`rxlint explain --list` lists the codes, `rxlint rules list` the rules)",
        crate::suggest::did_you_mean(text, names)
    ))
}
