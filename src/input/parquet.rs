//! Parquet files, a row group at a time.
//!
//! Takes an open file (standard input is first copied to a temporary
//! file: a Parquet file's footer, which says where everything is, is at
//! its end) and gives its schema, then its row groups one at a time as
//! record batches, each with the row number of its first row. Memory is
//! bounded by the largest row group, whatever the number of row groups.

use std::fs::File;
use std::io::Read;

use arrow_array::{RecordBatch, RecordBatchReader};
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

/// An open Parquet file.
pub(crate) struct ParquetFile {
    file: File,
    metadata: ArrowReaderMetadata,
    /// The next row group to read.
    next: usize,
    /// Rows before it.
    rows: u64,
}

impl ParquetFile {
    /// Reads the footer of `file` (input `name`): what it holds and where.
    ///
    /// Errors: a file that is not Parquet, or is cut short (`PAR1` missing
    /// at its end), or whose footer is damaged.
    pub(crate) fn open(file: File, name: &str) -> Result<ParquetFile, String> {
        let metadata = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
            .map_err(|e| format!("{name} is not a readable Parquet file: {e}"))?;
        Ok(ParquetFile {
            file,
            metadata,
            next: 0,
            rows: 0,
        })
    }

    /// Standard input, copied to a temporary file first.
    pub(crate) fn stdin() -> Result<ParquetFile, String> {
        let mut temp =
            tempfile::tempfile().map_err(|e| format!("cannot buffer standard input: {e}"))?;
        std::io::copy(&mut std::io::stdin().lock(), &mut temp)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        ParquetFile::open(temp, "standard input")
    }

    /// The file's columns.
    pub(crate) fn schema(&self) -> &arrow_schema::Schema {
        self.metadata.schema()
    }

    /// The next row group as one batch, the 1-based row number of its
    /// first row, and its size in the file; `None` after the last.
    pub(crate) fn next_row_group(
        &mut self,
        name: &str,
    ) -> Option<Result<(RecordBatch, u64, u64), String>> {
        let groups = self.metadata.metadata().num_row_groups();
        if self.next >= groups {
            return None;
        }
        let index = self.next;
        self.next += 1;
        let group = self.metadata.metadata().row_group(index);
        let rows = usize::try_from(group.num_rows()).unwrap_or(0);
        let bytes = u64::try_from(group.compressed_size()).unwrap_or(0);
        let first_row = self.rows + 1;
        self.rows += rows as u64;
        let cannot = |e: &dyn std::fmt::Display| {
            format!("cannot read row group {} of {name}: {e}", index + 1)
        };
        let read = || -> Result<RecordBatch, String> {
            let file = self.file.try_clone().map_err(|e| cannot(&e))?;
            let reader =
                ParquetRecordBatchReaderBuilder::new_with_metadata(file, self.metadata.clone())
                    .with_row_groups(vec![index])
                    .with_batch_size(rows.max(1))
                    .build()
                    .map_err(|e| cannot(&e))?;
            let schema = reader.schema();
            let batches: Vec<RecordBatch> =
                reader.collect::<Result<_, _>>().map_err(|e| cannot(&e))?;
            // Read with a batch as large as the row group: one batch, or
            // none for an empty row group.
            let mut batches = batches.into_iter();
            match (batches.next(), batches.next()) {
                (Some(batch), None) => Ok(batch),
                (None, _) => Ok(RecordBatch::new_empty(schema)),
                (Some(_), Some(_)) => Err(cannot(&"more than one batch for one row group")),
            }
        };
        Some(read().map(|batch| (batch, first_row, bytes)))
    }
}

/// Whether `head` (a file's first bytes) is the start of a Parquet file.
pub fn is_parquet(head: &[u8]) -> bool {
    head.starts_with(b"PAR1")
}

/// Whether the file at `path` starts as a Parquet file does.
pub(crate) fn file_is_parquet(path: &std::path::Path) -> std::io::Result<bool> {
    let mut head = [0u8; 4];
    let mut file = File::open(path)?;
    let mut n = 0;
    while n < head.len() {
        match file.read(&mut head[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(is_parquet(&head[..n]))
}
