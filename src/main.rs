//! The `rxlint` binary: all of the work is in the library.

fn main() -> std::process::ExitCode {
    std::process::ExitCode::from(rxlint::cli::run() as u8)
}
