//! `rxlint._rxlint`, the extension module of the `rxlint` Python package:
//! the core's batch checker ([`rxlint::arrow::Checker`]) for Python
//! callers, Spark and Dask workers.
//!
//! Takes rule texts (or the shipped packs), a profile and records (Python
//! dicts, or Arrow data through the C data interface) and gives one result
//! per regimen, built by the core's own readers, engine and writers, so
//! that a regimen checked here gets exactly the JSON line `rxlint check
//! --format json` writes for it. The wrappers for Spark and Dask are in
//! `rxlint/`.
//!
//! No exception carries a record's content: a record that cannot be read
//! is an `invalid` result, as in the CLI, and Spark logs an exception with
//! its message, which would put patient data in the cluster's logs. The
//! exceptions raised are about rules, profiles and columns.

mod records;

use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use arrow_pyarrow::{FromPyArrow, IntoPyArrow, Table, ToPyArrow};
use arrow_schema::Schema;
use pyo3::create_exception;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyMapping, PyString};

use rxlint::arrow::{CheckError, Checker as Core, Selection};

// As in the CLI: results are many small strings, where mimalloc is
// several times faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

create_exception!(
    rxlint,
    RulesError,
    PyValueError,
    "The rule files have problems; the message lists every one."
);

create_exception!(
    rxlint,
    SchemaError,
    PyValueError,
    "A table's columns cannot be read as regimens (a misspelt or missing column, \
     a column twice); the message says which, with a suggestion. It names \
     columns only, never a value."
);

/// Checks medication regimens against rule packs.
///
/// ``Checker(rules=None, profile="us", strict=False)`` compiles the rules
/// once. ``rules`` is ``None`` for the packs shipped inside the package, a
/// directory (``str`` or ``os.PathLike``), the text of one rule file, or a
/// mapping of file name to text (``vocabulary.yaml`` among them replaces
/// the shipped vocabulary). Raises ``RulesError`` for problems in the
/// rules, ``ValueError`` for a profile no pack names.
///
/// A checker pickles as its rule texts (nothing for the shipped packs), so
/// Spark and Dask workers need no rules folder; a worker that unpickles the
/// same checker for many tasks compiles it once.
#[pyclass(module = "rxlint._rxlint", name = "Checker", frozen)]
pub struct Checker {
    core: Arc<Core>,
    /// Built from the shipped packs: pickled as nothing.
    shipped: bool,
}

/// Checkers unpickled lately in this process, so that each task that
/// brings the same one does not compile it again.
/// Each with whether it holds the shipped packs.
static UNPICKLED: Mutex<Vec<(bool, Arc<Core>)>> = Mutex::new(Vec::new());
const UNPICKLED_KEPT: usize = 4;

#[pymethods]
impl Checker {
    #[new]
    #[pyo3(signature = (rules = None, profile = "us", strict = false))]
    fn new(
        py: Python<'_>,
        rules: Option<&Bound<'_, PyAny>>,
        profile: &str,
        strict: bool,
    ) -> PyResult<Self> {
        let shipped = rules.is_none();
        let source = match rules {
            None => Source::Shipped,
            Some(rules) => source_of(rules)?,
        };
        let profile = profile.to_owned();
        let core = py
            .detach(move || match source {
                Source::Shipped => Core::shipped(&profile, strict),
                Source::Dir(dir) => Core::from_dir(&dir, &profile, strict),
                Source::Texts(texts) => Core::from_sources(texts, &profile, strict),
            })
            .map_err(to_py)?;
        Ok(Checker {
            core: Arc::new(core),
            shipped,
        })
    }

    /// The profile whose rules are checked (``"us"``).
    #[getter]
    fn profile(&self) -> &str {
        self.core.profile()
    }

    /// Whether unevaluated rules count as errors.
    #[getter]
    fn strict(&self) -> bool {
        self.core.strict()
    }

    /// The rule files as ``{name: text}``, or ``None`` for the shipped packs.
    #[getter]
    fn rules<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        if self.shipped {
            return Ok(None);
        }
        let dict = PyDict::new(py);
        for (name, text) in self.core.sources() {
            dict.set_item(name, text)?;
        }
        Ok(Some(dict))
    }

    /// The schema of ``check_arrow``'s results: ``id``, ``input``,
    /// ``drug``, ``verdict``, ``findings`` (a list of structs) and
    /// ``json`` (the line ``rxlint check --format json`` writes).
    #[getter]
    fn results_schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.core.results_schema().as_ref().to_pyarrow(py)
    }

    /// The schema of ``check_arrow(data, columns=columns)``'s results: the
    /// columns named, in ``results_schema`` order. Raises ``ValueError``
    /// for a name that is not a result column, with did-you-mean.
    #[pyo3(signature = (columns=None))]
    fn results_schema_of<'py>(
        &self,
        py: Python<'py>,
        columns: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        rxlint::arrow::results_schema_of(selection(columns)?)
            .as_ref()
            .to_pyarrow(py)
    }

    /// Checks records given as dicts in the regimen format (as in a
    /// ``.jsonl`` file) and returns one dict per record, in order, with
    /// the fields of ``rxlint check --format json``: ``id``, ``input``
    /// (``records:N``), ``drug``, ``profile``, ``verdict``, ``findings``.
    ///
    /// A record that cannot be read (not a dict, a value of a type JSON
    /// has no place for) is an ``invalid`` result; it never raises.
    fn check_records<'py>(
        &self,
        py: Python<'py>,
        records: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let classes = records::Classes::import(py)?;
        let mut values = Vec::new();
        for record in records.try_iter()? {
            values.push(records::to_json(&record?, &classes, 0));
        }
        let core = self.core.clone();
        let text = py
            .detach(move || serde_json::Value::Array(core.check_json_records(&values)).to_string());
        py.import("json")?.call_method1("loads", (text,))
    }

    /// Checks Arrow data and returns a ``pyarrow.Table`` of results, one
    /// row per regimen (see ``results_schema``).
    ///
    /// ``data`` is a ``pyarrow.Table`` or ``RecordBatch`` (any object with
    /// ``__arrow_c_stream__``): one row per regimen with a ``phases`` list
    /// of structs, or one row per phase with ``id`` and ``phase`` columns,
    /// whose rows are brought together by id wherever they are. A
    /// ``RecordBatchReader`` is read batch by batch in bounded memory; its
    /// per-phase rows must then come in id order.
    ///
    /// ``columns`` names the result columns to give (of ``id``,
    /// ``input``, ``drug``, ``verdict``, ``findings``, ``json``); the
    /// others are not built, so that leaving out ``json`` and ``findings``
    /// also saves writing the messages. ``None`` gives them all.
    ///
    /// A record that cannot be read is an ``invalid`` row. Raises
    /// ``SchemaError`` when the columns cannot be read, ``ValueError`` for
    /// a name in ``columns`` that is not a result column.
    #[pyo3(signature = (data, columns=None))]
    fn check_arrow<'py>(
        &self,
        py: Python<'py>,
        data: &Bound<'py, PyAny>,
        columns: Option<Vec<String>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let pyarrow = py.import("pyarrow")?;
        let core = self.core.clone();
        let selection = selection(columns)?;
        let results = if data.is_instance(&pyarrow.getattr("RecordBatch")?)? {
            let batch = RecordBatch::from_pyarrow_bound(data)?;
            py.detach(move || core.check_batch_with(&batch, selection).map(|r| vec![r]))
        } else if data.is_instance(&pyarrow.getattr("RecordBatchReader")?)? {
            let reader =
                arrow_array::ffi_stream::RecordBatchStreamReader::from_pyarrow_bound(data)?;
            py.detach(move || stream(&core, reader, selection))
        } else if data.hasattr("__arrow_c_stream__")? {
            let table = Table::from_pyarrow_bound(data)?;
            py.detach(move || whole(&core, table, selection))
        } else {
            return Err(PyTypeError::new_err(format!(
                "check_arrow takes a pyarrow Table, RecordBatch or RecordBatchReader, not {}",
                records::type_name(data)
            )));
        }
        .map_err(to_py)?;
        Table::try_new(results, rxlint::arrow::results_schema_of(selection))
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?
            .into_pyarrow(py)
    }

    /// Checks the columns of a table of this ``pyarrow.Schema`` as
    /// ``check_arrow`` would, without any data, and says how its rows make
    /// regimens: ``{"nested": bool, "id": name or None, "phase": name or
    /// None}`` (``id`` and ``phase`` as the schema names them, for the
    /// layout of one row per phase). Raises ``SchemaError`` when the
    /// columns cannot be read: how ``rxlint.spark`` and ``rxlint.dask``
    /// fail on the driver, before any task runs.
    fn check_schema<'py>(
        &self,
        py: Python<'py>,
        schema: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let schema = Schema::from_pyarrow_bound(schema)?;
        let columns = self.core.columns(&schema).map_err(to_py)?;
        let layout = PyDict::new(py);
        layout.set_item("nested", columns.nested())?;
        layout.set_item("id", columns.id_name())?;
        layout.set_item("phase", columns.phase_name())?;
        Ok(layout)
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let unpickle = py.import("rxlint._rxlint")?.getattr("_unpickle")?;
        let texts = (!self.shipped).then(|| self.core.sources().to_vec());
        let args = (texts, self.profile(), self.strict());
        (unpickle, args).into_pyobject(py).map(Bound::into_any)
    }

    fn __repr__(&self) -> String {
        let rules = if self.shipped {
            "shipped packs".to_owned()
        } else {
            format!("{} rule files", self.core.sources().len())
        };
        format!(
            "Checker({rules}, profile={:?}, strict={})",
            self.profile(),
            if self.strict() { "True" } else { "False" }
        )
    }
}

/// Rebuilds a pickled checker: the one unpickled before, when the same.
#[pyfunction]
#[pyo3(signature = (texts, profile, strict))]
fn _unpickle(
    py: Python<'_>,
    texts: Option<Vec<(String, String)>>,
    profile: &str,
    strict: bool,
) -> PyResult<Checker> {
    let shipped = texts.is_none();
    let profile = profile.to_owned();
    let core = py
        .detach(move || {
            let same = |(was_shipped, c): &&(bool, Arc<Core>)| {
                *was_shipped == shipped
                    && c.profile() == profile
                    && c.strict() == strict
                    && texts.as_deref().is_none_or(|t| c.sources() == t)
            };
            // A poisoned lock only means a thread panicked while holding
            // it; the list itself is whole.
            let mut kept = UNPICKLED
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            if let Some((_, found)) = kept.iter().find(same) {
                return Ok(found.clone());
            }
            let core = Arc::new(match texts {
                None => Core::shipped(&profile, strict)?,
                Some(texts) => Core::from_sources(texts, &profile, strict)?,
            });
            if kept.len() == UNPICKLED_KEPT {
                kept.remove(0);
            }
            kept.push((shipped, core.clone()));
            Ok(core)
        })
        .map_err(to_py)?;
    Ok(Checker { core, shipped })
}

/// Where the rules of a `rules=` argument are.
enum Source {
    Shipped,
    Dir(std::path::PathBuf),
    Texts(Vec<(String, String)>),
}

fn source_of(rules: &Bound<'_, PyAny>) -> PyResult<Source> {
    let py = rules.py();
    // Any mapping of file name to text, as the stub says, not only a dict.
    if let Ok(map) = rules.cast::<PyMapping>() {
        let items = map.items()?;
        let mut texts = Vec::with_capacity(items.len());
        for item in items.iter() {
            texts.push(item.extract::<(String, String)>()?);
        }
        return Ok(Source::Texts(texts));
    }
    let is_text = rules.is_instance_of::<PyString>();
    let path: String = py
        .import("os")?
        .call_method1("fspath", (rules,))
        .and_then(|p| p.extract())
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "rules: expected None, a directory, rule text or a dict of name to text, not {}",
                records::type_name(rules)
            ))
        })?;
    // Rule text always spans lines; a one-line string names a directory.
    if is_text && path.contains('\n') {
        return Ok(Source::Texts(vec![("rules.yaml".to_owned(), path)]));
    }
    let dir = std::path::PathBuf::from(&path);
    if !dir.is_dir() {
        return Err(PyValueError::new_err(format!(
            "rules: {path} is not a directory (give a rules directory, or rule text)"
        )));
    }
    Ok(Source::Dir(dir))
}

/// A table's batches as one, so that its per-phase rows are grouped by id
/// wherever they are.
fn whole(core: &Core, table: Table, selection: Selection) -> Result<Vec<RecordBatch>, CheckError> {
    let (batches, schema) = table.into_inner();
    let batch = match batches.as_slice() {
        [one] => one.clone(),
        _ => arrow_select::concat::concat_batches(&schema, &batches)
            .map_err(|e| CheckError::Arrow(e.to_string()))?,
    };
    core.check_batch_with(&batch, selection).map(|r| vec![r])
}

/// A reader's batches one at a time, a regimen crossing into the next
/// batch held back until it is whole.
fn stream(
    core: &Core,
    reader: arrow_array::ffi_stream::RecordBatchStreamReader,
    selection: Selection,
) -> Result<Vec<RecordBatch>, CheckError> {
    let mut stream = core.stream_with("batch", selection);
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.map_err(|e| CheckError::Arrow(e.to_string()))?;
        out.push(stream.push(&batch)?);
    }
    out.push(stream.finish()?);
    Ok(out)
}

/// The result columns named, or all of them.
fn selection(columns: Option<Vec<String>>) -> PyResult<Selection> {
    match columns {
        None => Ok(Selection::ALL),
        Some(names) => Selection::of(&names).map_err(PyValueError::new_err),
    }
}

/// The Python exception for a checker's error. An out-of-order message
/// would quote ids, so it is not passed on.
fn to_py(error: CheckError) -> PyErr {
    match error {
        CheckError::Rules(ref problems) => {
            let n = problems.len();
            let noun = if n == 1 { "problem" } else { "problems" };
            RulesError::new_err(format!("the rule files have {n} {noun}:\n{error}"))
        }
        CheckError::Columns(_) => SchemaError::new_err(error.to_string()),
        CheckError::Profile(why) => PyValueError::new_err(why),
        CheckError::Order(_) => PyValueError::new_err(
            "the per-phase rows of a RecordBatchReader are not in id order, so a regimen's \
             rows may lie apart: sort them by id, pass a Table (grouped whole), or give one \
             row per regimen with a `phases` list",
        ),
        CheckError::Arrow(why) => PyRuntimeError::new_err(why),
    }
}

/// The extension module.
#[pymodule]
fn _rxlint(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Checker>()?;
    m.add_function(wrap_pyfunction!(_unpickle, m)?)?;
    m.add("RulesError", m.py().get_type::<RulesError>())?;
    m.add("SchemaError", m.py().get_type::<SchemaError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
