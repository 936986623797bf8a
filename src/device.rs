//! Choosing where the model runs: once, at start-up, then passed down.

use std::str::FromStr;

use candle_core::Device;

use crate::{Error, Result};

/// What the user asked for with `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// The GPU when this build has CUDA and a GPU answers, else the CPU.
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// The first CUDA GPU, or an error.
    Cuda,
}

impl FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" | "gpu" => Ok(Self::Cuda),
            other => Err(format!("unknown device {other:?}: use auto, cpu or cuda")),
        }
    }
}

/// The chosen device, plus a note for the user when `auto` fell back to the CPU.
#[derive(Debug, Clone)]
pub struct Selected {
    /// Where tensors live.
    pub device: Device,
    /// Why the CPU was used although a GPU was allowed, if that happened.
    pub note: Option<String>,
}

/// True when this binary was built with `--features cuda`.
pub const CUDA_BUILT: bool = cfg!(feature = "cuda");

/// Opens the device the user asked for.
pub fn select(choice: DeviceChoice) -> Result<Selected> {
    match choice {
        DeviceChoice::Cpu => Ok(Selected {
            device: Device::Cpu,
            note: None,
        }),
        DeviceChoice::Cuda => open_cuda().map(|device| Selected { device, note: None }),
        DeviceChoice::Auto => match open_cuda() {
            Ok(device) => Ok(Selected { device, note: None }),
            Err(e) => Ok(Selected {
                device: Device::Cpu,
                note: CUDA_BUILT.then(|| format!("using the CPU: {e}")),
            }),
        },
    }
}

fn open_cuda() -> Result<Device> {
    if !CUDA_BUILT {
        return Err(Error::Device(
            "this seesay was built without GPU support; rebuild with `cargo build --release --features cuda`, or use --device cpu".into(),
        ));
    }
    Device::new_cuda(0).map_err(|e| {
        // candle appends a backtrace to driver errors; the user needs the first line only.
        let text = e.to_string();
        let first = text.lines().next().unwrap_or("unknown error").trim_end_matches('(');
        Error::Device(format!(
            "no usable CUDA GPU ({first}); check `nvidia-smi` and the CUDA 13 libraries, or use --device cpu"
        ))
    })
}

/// A short human name for a device: "CPU" or "CUDA:0".
pub fn name(device: &Device) -> String {
    match device {
        Device::Cpu => "CPU".to_owned(),
        Device::Cuda(_) => "CUDA".to_owned(),
        Device::Metal(_) => "Metal".to_owned(),
    }
}
