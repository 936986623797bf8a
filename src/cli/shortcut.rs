//! `seesay --describe-screen` / `--describe-window`: for the desktop's own shortcut settings
//! (what works on Wayland). A running seesay is asked over its socket; with none running, this
//! process captures, describes, prints and speaks on its own.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, Result};

use seesay::captioner::{CaptionOptions, Captioner, ModelSource};
use seesay::describer::{Describer, Mode};
use seesay::device::DeviceChoice;
use seesay::remote::{self, Request};
use seesay::sources;

/// Asks the running app, or describes here.
pub fn run(request: Request, model: ModelSource) -> Result<ExitCode> {
    let socket = remote::socket_path();
    match remote::send(&socket, request) {
        Ok(true) => return Ok(ExitCode::SUCCESS),
        Ok(false) => {}
        // Worth knowing, but the user pressed a key to hear something: describe here instead.
        Err(e) => eprintln!("seesay: {e}; describing without the app"),
    }
    let (label, image) = match request {
        Request::DescribeScreen => (
            "screen".to_owned(),
            sources::capture_screen(None).map_err(anyhow::Error::msg)?,
        ),
        Request::DescribeWindow => {
            let shot = sources::capture_active_window().map_err(anyhow::Error::msg)?;
            (shot.label, shot.image)
        }
    };
    let selected = seesay::device::select(DeviceChoice::Auto)?;
    let captioner =
        Captioner::load(&model, &selected.device).context("cannot load the captioning model")?;
    let mut describer = Describer::new(captioner);
    let d = describer
        .describe(&image, &CaptionOptions::default(), Mode::Auto)
        .with_context(|| format!("cannot describe the {label}"))?;
    if let Some(note) = &d.note {
        eprintln!("seesay: {note}");
    }
    println!("{label}: {}", d.spoken);
    // A screen full of text takes a while to say: allow about two words a second.
    let words = d.spoken.split_whitespace().count();
    let timeout = Duration::from_secs(30 + words as u64 / 2);
    seesay::speech::speak_blocking(&d.spoken, 1.0, timeout).map_err(anyhow::Error::msg)?;
    Ok(ExitCode::SUCCESS)
}
