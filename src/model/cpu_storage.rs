//! Access to a CPU tensor's values from inside a custom op.

use candle_core::{CpuStorage, Layout, Result};

/// The f32 values a contiguous layout covers; `op` names the caller in the error.
pub fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [f32]> {
    let data = s.as_slice::<f32>()?;
    match l.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("{op} needs contiguous inputs"),
    }
}
