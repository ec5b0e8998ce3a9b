//! The worker pool: batches of input to ordered output, in parallel.
//!
//! [`input`](crate::input) cuts the inputs into tasks (a document file, one
//! JSON line, the rows of one CSV regimen) and numbered batches of tasks;
//! here they are parsed, evaluated and rendered. Each of `jobs`
//! workers in turn takes the next batch from the reader, parses, evaluates
//! and renders it, and writes it when every earlier batch has been written.
//! A batch thus stays on one core from input to output, and no thread sits
//! between workers: `--jobs 1` is the caller's thread alone (as `make -j1`
//! or `rg -j1`, what a one-CPU container or a shared CI runner wants).
//! Workers run at most a few batches ahead of the output, so memory stays
//! flat however large the input, and the output is byte-identical for any
//! number of workers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex};

use crate::eval::{Engine, Outcome};
use crate::input::read::{Reader, Task};
use crate::input::{Input, Prepared, Progress, Trouble};

/// Runs the pipeline: `render` adds each outcome to its batch's output
/// (`B`, which starts empty), and `sink` receives the batches' outputs in
/// input order.
///
/// `jobs` workers (the caller's thread and `jobs - 1` more) each take the
/// next batch from the reader under a lock, parse, evaluate and render it,
/// and hand it to the sink under another lock once every earlier batch has
/// been: a batch is read, worked and written on one core, with no thread
/// between. A worker runs at most `2 x jobs` batches ahead of the output,
/// so memory stays bounded however slow one batch is. Returns the first
/// I/O error of the reader, if any.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; a struct would only rename them"
)]
pub fn run<'r, B: Default + Send>(
    inputs: &[Input],
    spans: bool,
    headers: &[Prepared],
    engine: &Engine<'r>,
    jobs: usize,
    progress: &Progress,
    render: &(dyn Fn(&Outcome<'r>, &mut B) + Sync),
    sink: &mut (dyn FnMut(B) + Send),
) -> Result<(), Trouble> {
    let jobs = jobs.max(1);
    let pool = Pool {
        reader: Mutex::new(Reader::new(inputs, headers, progress, engine.vocabulary())),
        out: Mutex::new(Out {
            next: 0,
            waiting: BTreeMap::new(),
            sink,
        }),
        turn: Condvar::new(),
        window: 2 * jobs as u64,
        stopped: AtomicBool::new(false),
    };
    let lost = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..jobs)
            // A worker that cannot start leaves its share to the others.
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("rxlint-work".into())
                    .spawn_scoped(scope, || pool.work(engine, spans, render))
                    .ok()
            })
            .collect();
        pool.work(engine, spans, render);
        helpers
            .into_iter()
            .map(|h| h.join())
            .filter(Result::is_err)
            .count()
    });
    let failed = match pool.reader.into_inner() {
        Ok(reader) => reader.failed,
        Err(_) => Some(Trouble::Io("the input reader stopped unexpectedly".into())),
    };
    match failed {
        Some(trouble) => Err(trouble),
        None if lost > 0 => Err(Trouble::Io("a worker stopped unexpectedly".into())),
        None => Ok(()),
    }
}

/// What the workers share.
struct Pool<'a, B> {
    reader: Mutex<Reader<'a>>,
    out: Mutex<Out<'a, B>>,
    /// Signalled when the output moves on (or a worker stops).
    turn: Condvar,
    /// Most batches taken but not yet written.
    window: u64,
    /// Set when a worker stops unexpectedly, so that none waits for it.
    stopped: AtomicBool,
}

/// The output side: batches finished early wait here for their turn.
struct Out<'a, B> {
    /// The number of the next batch to write.
    next: u64,
    waiting: BTreeMap<u64, B>,
    sink: &'a mut (dyn FnMut(B) + Send),
}

impl<B: Default + Send> Pool<'_, B> {
    fn work<'r>(
        &self,
        engine: &Engine<'r>,
        spans: bool,
        render: &(dyn Fn(&Outcome<'r>, &mut B) + Sync),
    ) {
        // A worker that panics stops the others from waiting for its batch.
        struct Stop<'s>(&'s AtomicBool, &'s Condvar);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.store(true, Ordering::SeqCst);
                    self.1.notify_all();
                }
            }
        }
        let _stop = Stop(&self.stopped, &self.turn);
        while let Some((seq, tasks)) = self.take() {
            let mut output = B::default();
            for task in tasks {
                for regimen in task.regimens(spans, engine.vocabulary()) {
                    render(&engine.evaluate(regimen), &mut output);
                }
            }
            self.deliver(seq, output);
        }
    }

    /// The next batch to work, once the output is close enough behind.
    fn take(&self) -> Option<(u64, Vec<Task>)> {
        let mut reader = self.reader.lock().ok()?;
        if self.stopped.load(Ordering::SeqCst) {
            return None;
        }
        let mut out = self.out.lock().ok()?;
        // The batch the output waits for is being worked by another worker,
        // which takes the reader only after writing it and signalling.
        while reader.seq >= out.next + self.window {
            if self.stopped.load(Ordering::SeqCst) {
                return None;
            }
            out = self.turn.wait(out).ok()?;
        }
        drop(out);
        reader.next_batch()
    }

    /// Hands a worked batch to the sink with every batch now due after it.
    fn deliver(&self, seq: u64, output: B) {
        let Ok(mut out) = self.out.lock() else {
            return;
        };
        let Out {
            next,
            waiting,
            sink,
        } = &mut *out;
        waiting.insert(seq, output);
        while let Some(output) = waiting.remove(next) {
            sink(output);
            *next += 1;
        }
        drop(out);
        self.turn.notify_all();
    }
}
