//! Where a report goes, safely: never over one of the inputs, and a report
//! file is replaced only whole. The report is written to a temporary file
//! beside the destination and renamed over it once the run has succeeded,
//! so an interrupted or failed run (Ctrl-C, a crash, a full disk, exit 2)
//! leaves the previous report as it was.

use std::fs::{File, Metadata};
use std::io::Write;
use std::os::fd::AsFd;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use indicatif::ProgressBar;
use tempfile::NamedTempFile;

use crate::input::{Input, Origin};

/// The temporary report to remove if the run is interrupted; `None` once
/// it has been renamed into place. The lock is held while renaming, so an
/// interruption either removes it first or finds it already in place.
pub type Pending = Arc<Mutex<Option<PathBuf>>>;

/// A file's identity: device and inode, the same through any path, link
/// or hard link.
fn identity(meta: &Metadata) -> (u64, u64) {
    (meta.dev(), meta.ino())
}

fn stdin_meta() -> std::io::Result<Metadata> {
    File::from(std::io::stdin().as_fd().try_clone_to_owned()?).metadata()
}

fn stdout_meta() -> std::io::Result<Metadata> {
    File::from(std::io::stdout().as_fd().try_clone_to_owned()?).metadata()
}

/// Refuses a report destination that is one of the inputs (named, found
/// in a directory, or standard input redirected from it), by identity, so
/// that `--output X X` cannot empty X. Without `--output`, refuses a
/// standard output redirected onto an input (`>> X`).
pub fn refuse_inputs(output: Option<&Path>, inputs: &[Input]) -> Result<(), String> {
    let (target, shown) = match output {
        Some(path) => match std::fs::metadata(path) {
            Ok(meta) => (meta, path.display().to_string()),
            // A file that does not exist yet is no input.
            Err(_) => return Ok(()),
        },
        None => match stdout_meta() {
            Ok(meta) => (meta, "standard output".to_owned()),
            Err(_) => return Ok(()),
        },
    };
    // Devices and pipes (`/dev/null`, a terminal) hold no input data.
    if !target.is_file() {
        return Ok(());
    }
    for input in inputs {
        let meta = match &input.origin {
            Origin::File(path) => std::fs::metadata(path),
            Origin::Stdin => stdin_meta(),
        };
        if meta.is_ok_and(|m| identity(&m) == identity(&target)) {
            let name = match &input.origin {
                Origin::File(path) => format!("the input {}", path.display()),
                Origin::Stdin => "standard input".to_owned(),
            };
            let how = match output {
                Some(_) => "choose another --output",
                None => "redirect standard output elsewhere",
            };
            return Err(format!(
                "refusing to write the report to {shown}: it is the same file as {name}, \
                 which is left untouched ({how})"
            ));
        }
    }
    Ok(())
}

/// Where the report is being written.
pub enum Report {
    /// Standard output.
    Stdout,
    /// A regular file, written to a temporary file beside it.
    Replace {
        /// The temporary file (removed when dropped unless committed).
        temp: NamedTempFile,
        /// Where it goes.
        path: PathBuf,
        /// The permissions of the report it replaces, kept.
        mode: Option<std::fs::Permissions>,
        /// Shared with the interrupt handler.
        pending: Pending,
    },
    /// A device or a pipe (`--output /dev/stdout`), written in place.
    Direct,
}

impl Report {
    /// Opens the destination `output` (standard output when `None`) and
    /// returns where to write. A regular file is not touched until
    /// [`Report::commit`].
    pub fn open(
        output: Option<&Path>,
        pending: &Pending,
    ) -> Result<(Report, Box<dyn Write + Send>), String> {
        let Some(output) = output else {
            return Ok((Report::Stdout, Box::new(std::io::stdout())));
        };
        let cannot = |e: std::io::Error| format!("cannot write {}: {e}", output.display());
        // Write through a symbolic link to the file it names, keeping the link.
        let path = match std::fs::canonicalize(output) {
            Ok(real) => real,
            Err(_) => output.to_path_buf(),
        };
        let existing = std::fs::metadata(&path).ok();
        if let Some(meta) = &existing
            && !meta.is_file()
        {
            if meta.is_dir() {
                return Err(format!(
                    "cannot write {}: it is a directory",
                    output.display()
                ));
            }
            let file = std::fs::OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(cannot)?;
            return Ok((Report::Direct, Box::new(file)));
        }
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        // Said plainly, before the temporary file's own error would.
        std::fs::metadata(dir).map_err(cannot)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // A new report gets the permissions `File::create` would give
        // (0666 less the umask), not a temporary file's 0600.
        let temp = tempfile::Builder::new()
            .prefix(&format!(".{name}."))
            .suffix(".tmp")
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(dir)
            .map_err(cannot)?;
        *pending.lock().unwrap_or_else(PoisonError::into_inner) = Some(temp.path().to_owned());
        let file = temp.as_file().try_clone().map_err(cannot)?;
        Ok((
            Report::Replace {
                temp,
                path,
                mode: existing.map(|m| m.permissions()),
                pending: pending.clone(),
            },
            Box::new(file),
        ))
    }

    /// Puts a finished report in place: synced to disk, then renamed over
    /// the destination in one step. Dropping a `Report` instead leaves the
    /// destination as it was and removes the temporary file.
    pub fn commit(self) -> Result<(), String> {
        let Report::Replace {
            temp,
            path,
            mode,
            pending,
        } = self
        else {
            return Ok(());
        };
        let cannot = |e: std::io::Error| format!("cannot write {}: {e}", path.display());
        if let Some(mode) = mode {
            temp.as_file().set_permissions(mode).map_err(cannot)?;
        }
        temp.as_file().sync_all().map_err(cannot)?;
        let mut pending = pending.lock().unwrap_or_else(PoisonError::into_inner);
        if pending.is_none() {
            // Interrupted: the handler has removed the file and is exiting.
            return Err("interrupted".into());
        }
        temp.persist(&path).map_err(|e| cannot(e.error))?;
        *pending = None;
        Ok(())
    }
}

/// On Ctrl-C (SIGINT) or SIGTERM: clears the progress bar, removes the
/// temporary report, and exits 130 (or 143), the shell's code for a
/// process stopped by that signal. Returns `None` when the handler cannot
/// be installed (the run then goes on with the default behaviour).
pub fn on_interrupt(bar: Option<ProgressBar>, pending: Pending) -> Option<()> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]).ok()?;
    std::thread::Builder::new()
        .name("rxlint-signals".into())
        .spawn(move || {
            if let Some(signal) = signals.forever().next() {
                let mut temp = pending.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(path) = temp.take() {
                    let _ = std::fs::remove_file(path);
                }
                if let Some(bar) = &bar {
                    bar.finish_and_clear();
                }
                let _ = std::io::stderr().flush();
                std::process::exit(128 + signal);
            }
        })
        .ok()?;
    Some(())
}
