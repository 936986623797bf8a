//! Access to a CPU tensor's values from inside a custom op.

use std::mem::MaybeUninit;

use candle_core::{CpuStorage, Layout, Result};

/// The f32 values a contiguous layout covers; `op` names the caller in the error.
pub fn f32_slice<'a>(s: &'a CpuStorage, l: &Layout, op: &str) -> Result<&'a [f32]> {
    let data = s.as_slice::<f32>()?;
    match l.contiguous_offsets() {
        Some((start, end)) => Ok(&data[start..end]),
        None => candle_core::bail!("{op} needs contiguous inputs"),
    }
}

/// A vector of `len` values (floats, or whole lines of them) that `fill` writes, with no
/// zeroing pass first: a kernel's output is tens of megabytes a second, and clearing it first
/// costs as much as a layer.
///
/// # Safety
/// `fill` must write every one of the `len` values.
pub unsafe fn written_by<T>(len: usize, fill: impl FnOnce(&mut [MaybeUninit<T>])) -> Vec<T> {
    let mut v = Vec::with_capacity(len);
    fill(&mut v.spare_capacity_mut()[..len]);
    // SAFETY: the caller promises every value was written.
    unsafe { v.set_len(len) };
    v
}
