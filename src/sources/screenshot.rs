//! Screenshots through xcap: the list of monitors, and a capture of one of them.

use image::DynamicImage;

/// A monitor the user can choose to capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonitorInfo {
    /// Position in [`monitors`]'s list.
    pub index: usize,
    /// A name to show ("HDMI-1 (primary), 1920×1080").
    pub label: String,
    /// True for the primary monitor.
    pub primary: bool,
}

/// The monitors xcap can see.
pub fn monitors() -> Result<Vec<MonitorInfo>, String> {
    let all = xcap::Monitor::all().map_err(explain)?;
    Ok(all
        .iter()
        .enumerate()
        .map(|(index, m)| {
            let primary = m.is_primary().unwrap_or(false);
            let name = m
                .friendly_name()
                .or_else(|_| m.name())
                .unwrap_or_else(|_| format!("Monitor {}", index + 1));
            let size = match (m.width(), m.height()) {
                (Ok(w), Ok(h)) => format!(", {w}×{h}"),
                _ => String::new(),
            };
            let tag = if primary { " (primary)" } else { "" };
            MonitorInfo {
                index,
                label: format!("{name}{tag}{size}"),
                primary,
            }
        })
        .collect())
}

/// Captures monitor `index` (None: the primary one, else the first).
pub fn capture_screen(index: Option<usize>) -> Result<DynamicImage, String> {
    let all = xcap::Monitor::all().map_err(explain)?;
    let monitor = match index {
        Some(i) => all.get(i),
        None => all
            .iter()
            .find(|m| m.is_primary().unwrap_or(false))
            .or_else(|| all.first()),
    }
    .ok_or_else(|| "No monitor was found to capture.".to_owned())?;
    let rgba = monitor.capture_image().map_err(explain)?;
    Ok(DynamicImage::ImageRgba8(rgba))
}

fn explain(e: xcap::XCapError) -> String {
    format!(
        "The screenshot was not permitted or failed ({e}). On Wayland, a screenshot portal \
         (xdg-desktop-portal) must be running and allow it."
    )
}
