//! `seesay speak TEXT`: says the text with the system's speech engine and waits until it is said.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use clap::Args;

/// Arguments of `seesay speak`.
#[derive(Debug, Args)]
pub struct SpeakArgs {
    /// What to say.
    #[arg(required = true, value_name = "TEXT")]
    text: Vec<String>,
    /// Speed: 1.0 normal, 0.5 half, 2.0 double.
    #[arg(long, default_value_t = 1.0)]
    rate: f32,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 30)]
    timeout: u64,
}

/// Speaks and waits.
pub fn run(args: &SpeakArgs) -> Result<ExitCode> {
    let text = args.text.join(" ");
    seesay::speech::speak_blocking(&text, args.rate, Duration::from_secs(args.timeout))
        .map_err(anyhow::Error::msg)?;
    Ok(ExitCode::SUCCESS)
}
