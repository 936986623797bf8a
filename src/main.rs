//! seesay's command line: open the app, or caption, train, evaluate and describe from a shell.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any thread starts: Tesseract reads its thread limit once, when it is loaded.
    seesay::ocr::use_one_thread();
    match cli::run() {
        Ok(code) => code,
        // The reader went away (`seesay caption *.jpg | head -1`): nothing is wrong.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("seesay: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// True when writing the output failed because the other end of a pipe closed.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    e.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .is_some_and(|j| j.io_error_kind() == Some(BrokenPipe))
    })
}
