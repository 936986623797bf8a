//! seesay's command line: open the app, or caption, train, evaluate and describe from a shell.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("seesay: {e:#}");
            ExitCode::from(2)
        }
    }
}
