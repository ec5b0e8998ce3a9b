//! The batch API: Arrow record batches in, Arrow record batches out.
//!
//! A [`Checker`] owns its compiled rules, profile and strict flag, so a
//! caller (the Python package, a Spark or Dask worker) builds it once and
//! checks any number of batches with it. It can be rebuilt from plain
//! data ([`Checker::sources`], [`Checker::from_sources`]), so that it can be
//! pickled and shipped to workers that have no rules folder.
//!
//! A batch's columns are checked first, as a CSV header is: a batch whose
//! columns cannot be read is an [`CheckError::Columns`] with the
//! did-you-mean diagnostics. After that nothing is an error: a record that
//! cannot be read is an `invalid` row of the results, as in the CLI. The
//! input layouts are [`regimen::arrow`](crate::regimen::arrow)'s; the
//! results are [`report::arrow`](crate::report::arrow)'s.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;

use crate::diagnostic::Diagnostic;
use crate::eval::Engine;
use crate::regimen::arrow::{Chunk, Columns, Grouper, RowRef};
use crate::report::arrow::Results;
use crate::report::human::{self, Style};
use crate::rules::RuleSet;
use crate::source::SourceFile;

pub use crate::report::arrow::schema as results_schema;
pub use crate::report::arrow::{
    COLUMNS as RESULT_COLUMNS, Selection, schema_of as results_schema_of,
};

/// Why a checker could not be built, or a batch not checked.
#[derive(Debug)]
pub enum CheckError {
    /// The rule files do not load (every problem, located).
    Rules(Vec<Diagnostic>),
    /// No pack names the profile.
    Profile(String),
    /// The batch's columns cannot be read (no `drug` column, a column
    /// twice), with did-you-mean: the CSV header diagnostics.
    Columns(Vec<Diagnostic>),
    /// The per-phase rows of successive batches are not in id order
    /// ([`Stream`] only).
    Order(String),
    /// Arrow could not build the results (not expected).
    Arrow(String),
}

impl fmt::Display for CheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let style = Style {
            color: false,
            width: 100,
        };
        match self {
            CheckError::Rules(problems) | CheckError::Columns(problems) => {
                let rendered: Vec<String> =
                    problems.iter().map(|d| human::render(d, style)).collect();
                f.write_str(rendered.join("\n").trim_end())
            }
            CheckError::Profile(why) | CheckError::Order(why) | CheckError::Arrow(why) => {
                f.write_str(why)
            }
        }
    }
}

impl std::error::Error for CheckError {}

/// Compiled rules, a profile and the strict flag: checks Arrow batches and
/// JSON records.
#[derive(Clone, Debug)]
pub struct Checker {
    rules: Arc<RuleSet>,
    sources: Arc<Vec<(String, String)>>,
    profile: String,
    strict: bool,
}

impl Checker {
    /// The packs shipped with rxlint.
    pub fn shipped(profile: &str, strict: bool) -> Result<Checker, CheckError> {
        let sources = crate::rules::builtin_sources()
            .map(|(name, text)| (name.to_owned(), text.to_owned()))
            .collect();
        Checker::from_sources(sources, profile, strict)
    }

    /// The rule files under `dir` (`*.yaml`, and its `vocabulary.yaml`).
    pub fn from_dir(dir: &Path, profile: &str, strict: bool) -> Result<Checker, CheckError> {
        let (sources, problems) = crate::rules::dir_sources(dir).map_err(CheckError::Rules)?;
        if !problems.is_empty() {
            return Err(CheckError::Rules(problems));
        }
        Checker::from_sources(sources, profile, strict)
    }

    /// One rule file's text (a pack), named `rules.yaml` in diagnostics.
    pub fn from_text(text: &str, profile: &str, strict: bool) -> Result<Checker, CheckError> {
        Checker::from_sources(
            vec![("rules.yaml".to_owned(), text.to_owned())],
            profile,
            strict,
        )
    }

    /// Rule files as (name, text) pairs, as [`Checker::sources`] gives
    /// them: how a pickled checker is rebuilt.
    pub fn from_sources(
        sources: Vec<(String, String)>,
        profile: &str,
        strict: bool,
    ) -> Result<Checker, CheckError> {
        let files = sources
            .iter()
            .map(|(name, text)| SourceFile::new(name.as_str(), text.as_str()))
            .collect();
        let rules = crate::rules::load_sources(files).map_err(CheckError::Rules)?;
        // The profile is checked once here, so that checking cannot fail on it.
        Engine::new(&rules, profile, strict).map_err(CheckError::Profile)?;
        Ok(Checker {
            rules: Arc::new(rules),
            sources: Arc::new(sources),
            profile: profile.to_owned(),
            strict,
        })
    }

    /// The rule files it was built from, as (name, text).
    pub fn sources(&self) -> &[(String, String)] {
        &self.sources
    }

    /// The profile.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// Whether unevaluated rules count as errors.
    pub fn strict(&self) -> bool {
        self.strict
    }

    /// The schema of the results.
    pub fn results_schema(&self) -> SchemaRef {
        results_schema()
    }

    fn engine(&self) -> Result<Engine<'_>, CheckError> {
        Engine::new(&self.rules, &self.profile, self.strict).map_err(CheckError::Profile)
    }

    /// The columns of a batch, checked (warnings about columns not read
    /// are dropped: a batch API has nowhere to print them).
    pub fn columns(&self, schema: &arrow_schema::Schema) -> Result<Columns, CheckError> {
        Columns::check("batch", schema, &self.rules.vocabulary, None).map_err(CheckError::Columns)
    }

    /// Checks one batch: one result row per regimen (per row in the nested
    /// layout, per id in the per-phase layout, whose rows are grouped by
    /// id wherever they are in the batch). Rows are numbered from 1 in
    /// `input` (`batch:7`).
    pub fn check_batch(&self, batch: &RecordBatch) -> Result<RecordBatch, CheckError> {
        self.check_batch_with(batch, Selection::ALL)
    }

    /// [`Checker::check_batch`], giving only the selected result columns
    /// (and doing only their work: without `json` and `findings`, no
    /// message is written).
    pub fn check_batch_with(
        &self,
        batch: &RecordBatch,
        selection: Selection,
    ) -> Result<RecordBatch, CheckError> {
        let columns = Arc::new(self.columns(batch.schema_ref())?);
        let mut grouper = Grouper::new(columns.clone());
        let chunk = Arc::new(Chunk {
            batch: batch.clone(),
            first_row: 1,
        });
        // One batch: no order to keep across batches.
        let mut groups = grouper
            .push(chunk)
            .map_err(|e| CheckError::Order(e.message))?;
        groups.append(&mut grouper.finish());
        self.check_groups(&columns, &groups, selection)
    }

    fn check_groups(
        &self,
        columns: &Columns,
        groups: &[Vec<RowRef>],
        selection: Selection,
    ) -> Result<RecordBatch, CheckError> {
        let engine = self.engine()?;
        let mut results = Results::selected(groups.len(), selection);
        for rows in groups {
            let regimen = crate::regimen::arrow::build(columns, rows, false, engine.vocabulary());
            results.append(&engine.evaluate(regimen), engine.profile());
        }
        results
            .finish()
            .map_err(|e| CheckError::Arrow(e.to_string()))
    }

    /// Checks regimen documents (the JSON of `--format jsonl`, one per
    /// value): one `--format json` object per record, in order. A value
    /// that is not a regimen is an `invalid` record, never an error.
    pub fn check_json_records(&self, records: &[serde_json::Value]) -> Vec<serde_json::Value> {
        let Ok(engine) = self.engine() else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(records.len());
        let mut line = Vec::new();
        for (i, record) in records.iter().enumerate() {
            let text = record.to_string();
            let regimens =
                crate::input::read::json_line("records", i + 1, text, false, engine.vocabulary());
            for regimen in regimens {
                line.clear();
                crate::report::json::line(&engine.evaluate(regimen), engine.profile(), &mut line);
                out.push(serde_json::from_slice(&line).unwrap_or(serde_json::Value::Null));
            }
        }
        out
    }

    /// Checks successive batches of one input in bounded memory: a
    /// per-phase regimen may cross from one batch into the next when the
    /// batches are in id order.
    pub fn stream(&self, name: &str) -> Stream<'_> {
        self.stream_with(name, Selection::ALL)
    }

    /// [`Checker::stream`], giving only the selected result columns.
    pub fn stream_with(&self, name: &str, selection: Selection) -> Stream<'_> {
        Stream {
            checker: self,
            name: name.to_owned(),
            selection,
            columns: None,
            grouper: None,
            rows: 0,
        }
    }
}

/// Successive batches of one input ([`Checker::stream`]).
pub struct Stream<'c> {
    checker: &'c Checker,
    name: String,
    selection: Selection,
    columns: Option<Arc<Columns>>,
    grouper: Option<Grouper>,
    /// Rows seen so far.
    rows: u64,
}

impl Stream<'_> {
    /// Checks the regimens of `batch` that are complete; a per-phase
    /// regimen whose rows may go on in the next batch is held back.
    pub fn push(&mut self, batch: &RecordBatch) -> Result<RecordBatch, CheckError> {
        let columns = match &self.columns {
            Some(columns) if columns.fits(batch) => columns.clone(),
            Some(_) => {
                return Err(CheckError::Arrow(
                    "a batch's columns differ from the first batch's".into(),
                ));
            }
            None => {
                let columns = Arc::new(
                    Columns::check(
                        &self.name,
                        batch.schema_ref(),
                        &self.checker.rules.vocabulary,
                        None,
                    )
                    .map_err(CheckError::Columns)?,
                );
                self.columns = Some(columns.clone());
                columns
            }
        };
        let grouper = self
            .grouper
            .get_or_insert_with(|| Grouper::new(columns.clone()));
        let chunk = Arc::new(Chunk {
            batch: batch.clone(),
            first_row: self.rows + 1,
        });
        self.rows += batch.num_rows() as u64;
        let groups = grouper
            .push(chunk)
            .map_err(|e| CheckError::Order(e.message))?;
        self.checker.check_groups(&columns, &groups, self.selection)
    }

    /// The regimen held back, once no batch follows.
    pub fn finish(mut self) -> Result<RecordBatch, CheckError> {
        let groups: Vec<Vec<RowRef>> = self
            .grouper
            .as_mut()
            .map(Grouper::finish)
            .unwrap_or_default();
        match &self.columns {
            Some(columns) => self.checker.check_groups(columns, &groups, self.selection),
            None => Results::selected(0, self.selection)
                .finish()
                .map_err(|e| CheckError::Arrow(e.to_string())),
        }
    }
}
