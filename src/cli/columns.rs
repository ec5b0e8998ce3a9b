//! `rxlint columns`: column maps, a CSV export's headers onto rxlint's
//! fields.
//!
//! `columns init FILE` reads an export's header and writes a starter map
//! to standard output; [`load`] reads the map `check --columns` is given.

use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::{Exit, fail, rules_or_exit, stderr_style};
use crate::regimen::csv::columns::{self, ColumnMap};
use crate::report::human;
use crate::source::SourceFile;
use crate::vocabulary::Vocabulary;

#[derive(Subcommand, Debug)]
pub(super) enum ColumnsCommand {
    /// Write a starter column map for a CSV export, from its header, to
    /// standard output.
    Init {
        /// The export (only its header is read).
        export: PathBuf,
        /// Rule directory whose vocabulary to map onto (default: the
        /// shipped packs').
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
}

/// Reads and checks the column map at `path`; its problems are printed
/// and the run ends (exit 2) when it has any.
pub(super) fn load(path: &Path, vocabulary: &Vocabulary) -> Result<ColumnMap, Exit> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        fail(format!(
            "cannot read the column map {}: {e}",
            path.display()
        ))
    })?;
    let file = SourceFile::new(path.display().to_string(), text);
    ColumnMap::load(file, vocabulary).map_err(|problems| {
        let style = stderr_style();
        for p in &problems {
            eprintln!("{}", human::render(p, style));
        }
        fail(format!(
            "the column map {} cannot be used; nothing was checked",
            path.display()
        ))
    })
}

pub(super) fn init(export: &Path, rules: Option<&Path>) -> Exit {
    let set = match rules_or_exit(rules) {
        Ok(set) => set,
        Err(exit) => return exit,
    };
    let mut reader = match ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(export)
    {
        Ok(r) => r,
        Err(e) => return fail(format!("cannot read {}: {e}", export.display())),
    };
    let mut record = ::csv::StringRecord::new();
    match reader.read_record(&mut record) {
        Ok(true) => {}
        Ok(false) => {
            return fail(format!(
                "{} is empty: it has no header row",
                export.display()
            ));
        }
        Err(e) => return fail(format!("cannot read {}: {e}", export.display())),
    }
    let cells: Vec<String> = record.iter().map(str::to_owned).collect();
    let name = export.display().to_string();
    out!(
        "{}",
        columns::starter(&name, &cells, &set.vocabulary).trim_end()
    );
    Exit::Clean
}
