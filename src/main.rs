//! seesay's command line: open the app, or caption, train, evaluate and describe from a shell.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    // Before any thread starts: Tesseract reads its thread limit once, when it is loaded.
    seesay::ocr::use_one_thread();
    match cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("seesay: {e:#}");
            ExitCode::from(2)
        }
    }
}
