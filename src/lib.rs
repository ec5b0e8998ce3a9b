//! rxlint: checks proposed medication regimens against drug-label and
//! guideline limits written as rule files.
//!
//! The stages, in order: [`source`] text, [`tree`] (YAML and JSON),
//! [`syntax`] (the pest grammar), [`rules`] (the rule model), [`check`]
//! (types and units), [`input`] (files to records), [`regimen`] (records to
//! facts), [`eval`] (the evaluator), [`batch`] (the worker pool),
//! [`ruletest`] (`rules test`), [`report`] (human, JSON Lines, SARIF, JUnit,
//! GitHub), [`output`] (report files) and [`cli`]. Shared by them: one
//! [`diagnostic`] type, and the [`codes`] every diagnostic is keyed by.

pub mod arrow;
pub mod batch;
pub mod check;
pub mod cli;
pub mod codes;
pub mod date;
pub mod diagnostic;
pub mod docs;
pub mod eval;
pub mod facts;
pub mod input;
pub mod output;
pub mod regimen;
pub mod report;
pub mod rules;
pub mod ruletest;
pub mod source;
pub mod suggest;
pub mod syntax;
pub mod text;
pub mod tree;
pub mod units;
pub mod vocabulary;
