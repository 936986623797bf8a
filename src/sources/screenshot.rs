//! Screenshots through xcap: the list of monitors, a capture of one of them, and a capture of
//! the active window that is not seesay's own.

use std::sync::{Arc, Mutex};

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

/// The title of seesay's own window, which "describe the active window" never captures.
pub const OWN_TITLE: &str = "seesay";

/// What seesay needs to know about a window to choose which one to capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowInfo {
    /// The process that owns it (0 when unknown).
    pub pid: u32,
    /// Its title.
    pub title: String,
    /// Its application's name.
    pub app_name: String,
    /// True for the window with the keyboard focus.
    pub focused: bool,
    /// Stacking order: higher is nearer the top.
    pub z: i32,
    /// True when minimized (nothing to capture).
    pub minimized: bool,
}

/// Picks the window to describe: the focused one, else the topmost; never seesay's own
/// (`own_pid`, or a window titled [`OWN_TITLE`]) nor a minimized one. Returns its index.
pub fn choose_window(windows: &[WindowInfo], own_pid: u32) -> Option<usize> {
    let candidates = || {
        windows
            .iter()
            .enumerate()
            .filter(|(_, w)| w.pid != own_pid && w.title != OWN_TITLE && !w.minimized)
    };
    // Once seesay hides itself the window manager may focus nothing: then the top one is what
    // the user was looking at.
    candidates()
        .find(|(_, w)| w.focused)
        .or_else(|| candidates().max_by_key(|(_, w)| w.z))
        .map(|(i, _)| i)
}

/// A captured window and what to call it.
#[derive(Debug, Clone)]
pub struct WindowShot {
    /// "Firefox: Example Domain", for the window's label.
    pub label: String,
    /// Its pixels.
    pub image: DynamicImage,
}

/// Captures the focused window (else the topmost) that is not seesay's.
pub fn capture_active_window() -> Result<WindowShot, String> {
    let all = xcap::Window::all().map_err(|e| {
        format!(
            "seesay cannot list the windows ({e}). On X11 the window manager must publish them \
             (EWMH); on Wayland, describe the screen instead."
        )
    })?;
    let infos: Vec<WindowInfo> = all
        .iter()
        .map(|w| WindowInfo {
            pid: w.pid().unwrap_or(0),
            title: w.title().unwrap_or_default(),
            app_name: w.app_name().unwrap_or_default(),
            focused: w.is_focused().unwrap_or(false),
            z: w.z().unwrap_or(i32::MIN),
            minimized: w.is_minimized().unwrap_or(false),
        })
        .collect();
    let (window, info) = choose_window(&infos, std::process::id())
        .and_then(|i| Some((all.get(i)?, infos.get(i)?)))
        .ok_or_else(|| {
            "No window to describe: seesay found no open window besides its own.".to_owned()
        })?;
    let rgba = window.capture_image().map_err(explain)?;
    let label = match (info.app_name.trim(), info.title.trim()) {
        ("", "") => "Active window".to_owned(),
        (app, "") => app.to_owned(),
        ("", title) => title.to_owned(),
        (app, title) if title.contains(app) => title.to_owned(),
        (app, title) => format!("{app}: {title}"),
    };
    Ok(WindowShot {
        label,
        image: DynamicImage::ImageRgba8(rgba),
    })
}

/// Where screenshots come from: the screen through xcap, or pictures given by a test.
pub trait ScreenCapture: Send + Sync {
    /// Captures monitor `index` (None: the primary one).
    fn screen(&self, index: Option<usize>) -> Result<DynamicImage, String>;
    /// Captures the active window that is not seesay's.
    fn active_window(&self) -> Result<WindowShot, String>;
}

/// The real screen, through xcap.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemScreen;

impl ScreenCapture for SystemScreen {
    fn screen(&self, index: Option<usize>) -> Result<DynamicImage, String> {
        capture_screen(index)
    }

    fn active_window(&self) -> Result<WindowShot, String> {
        capture_active_window()
    }
}

/// A screen for tests: returns the pictures it was given, and counts the captures.
#[derive(Debug, Clone)]
pub struct MemoryScreen {
    screen: Option<DynamicImage>,
    window: Option<WindowShot>,
    captures: Arc<Mutex<Vec<&'static str>>>,
}

impl MemoryScreen {
    /// A screen showing `screen`, whose active window is `window` (None: nothing to capture).
    pub fn new(screen: Option<DynamicImage>, window: Option<WindowShot>) -> Self {
        Self {
            screen,
            window,
            captures: Arc::new(Mutex::new(Vec::new())),
        }
    }

    /// What was captured so far, in order: "screen" or "window".
    pub fn captures(&self) -> Vec<&'static str> {
        self.captures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn record(&self, what: &'static str) {
        self.captures
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(what);
    }
}

impl ScreenCapture for MemoryScreen {
    fn screen(&self, _index: Option<usize>) -> Result<DynamicImage, String> {
        self.record("screen");
        self.screen
            .clone()
            .ok_or_else(|| "No monitor was found to capture.".to_owned())
    }

    fn active_window(&self) -> Result<WindowShot, String> {
        self.record("window");
        self.window.clone().ok_or_else(|| {
            "No window to describe: seesay found no open window besides its own.".to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(pid: u32, title: &str, focused: bool, z: i32) -> WindowInfo {
        WindowInfo {
            pid,
            title: title.to_owned(),
            app_name: String::new(),
            focused,
            z,
            minimized: false,
        }
    }

    #[test]
    fn the_focused_window_is_chosen() {
        let windows = [
            window(10, "Terminal", false, 3),
            window(11, "Firefox", true, 1),
            window(12, "Files", false, 2),
        ];
        assert_eq!(choose_window(&windows, 99), Some(1));
    }

    #[test]
    fn seesay_own_window_is_never_chosen_even_when_focused() {
        let windows = [
            window(99, "seesay", true, 5),
            window(10, "Terminal", false, 1),
            window(12, "Files", false, 2),
        ];
        // Focus is ours: the topmost other window is what the user was looking at.
        assert_eq!(choose_window(&windows, 99), Some(2));
        // A window titled like seesay's is skipped even when its pid is unknown.
        let windows = [
            window(0, OWN_TITLE, true, 5),
            window(10, "Terminal", false, 1),
        ];
        assert_eq!(choose_window(&windows, 99), Some(1));
    }

    #[test]
    fn minimized_windows_are_skipped_and_none_left_means_none() {
        let mut hidden = window(10, "Terminal", true, 4);
        hidden.minimized = true;
        let windows = [hidden, window(11, "Files", false, 2)];
        assert_eq!(choose_window(&windows, 99), Some(1));
        assert_eq!(choose_window(&[window(99, "anything", true, 1)], 99), None);
        assert_eq!(choose_window(&[], 99), None);
    }
}
