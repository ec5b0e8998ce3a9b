//! The `rxlint` binary: all of the work is in the library.

// Batch checking allocates small strings on several threads at once, where
// mimalloc is several times faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(rxlint::cli::run() as u8)
}
