//! Global keys that work while seesay is in the background (X11): Ctrl+Alt+S describes the
//! screen, Ctrl+Alt+W the active window. Wayland does not let programs grab keys; there the
//! desktop's own shortcut settings run `seesay --describe-screen` instead.

use std::sync::mpsc;
use std::sync::Arc;

use global_hotkey::hotkey::{Code, HotKey, Modifiers};
use global_hotkey::{GlobalHotKeyEvent, GlobalHotKeyManager, HotKeyState};

use super::state::Command;

/// Registered global keys; pressing one queues its command. Dropping this releases the keys.
pub(super) struct Hotkeys {
    // Kept alive: its drop ungrabs the keys.
    _manager: GlobalHotKeyManager,
    pressed: mpsc::Receiver<Command>,
}

impl Hotkeys {
    /// Grabs the keys; `wake` is called from the hotkey thread when one is pressed. Fails in
    /// words when the session cannot have global keys (Wayland) or a key is taken.
    pub(super) fn register(wake: Arc<dyn Fn() + Send + Sync>) -> Result<Self, String> {
        let wayland = std::env::var("XDG_SESSION_TYPE").is_ok_and(|t| t == "wayland")
            || std::env::var_os("WAYLAND_DISPLAY").is_some_and(|d| !d.is_empty());
        // Checked here because the X11 backend reports success even without a display: its
        // thread just ends, and the keys would silently do nothing.
        if wayland {
            return Err(
                "global keys are not allowed on Wayland; bind seesay --describe-screen \
                        in the desktop's keyboard settings instead"
                    .to_owned(),
            );
        }
        if std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty()) {
            return Err("global keys need an X11 display, and there is none".to_owned());
        }
        let manager = GlobalHotKeyManager::new().map_err(|e| e.to_string())?;
        let ctrl_alt = Some(Modifiers::CONTROL | Modifiers::ALT);
        let screen = HotKey::new(ctrl_alt, Code::KeyS);
        let window = HotKey::new(ctrl_alt, Code::KeyW);
        manager
            .register_all(&[screen, window])
            .map_err(|e| format!("Ctrl+Alt+S or Ctrl+Alt+W could not be grabbed ({e})"))?;
        let (tx, pressed) = mpsc::channel();
        let (screen_id, window_id) = (screen.id(), window.id());
        // The handler runs on the library's thread: it only forwards and wakes the UI.
        GlobalHotKeyEvent::set_event_handler(Some(move |event: GlobalHotKeyEvent| {
            if event.state() != HotKeyState::Pressed {
                return;
            }
            let command = if event.id() == screen_id {
                Command::Screenshot
            } else if event.id() == window_id {
                Command::ScreenshotWindow
            } else {
                return;
            };
            if tx.send(command).is_ok() {
                wake();
            }
        }));
        Ok(Self {
            _manager: manager,
            pressed,
        })
    }

    /// The next key pressed, as a command (never blocks).
    pub(super) fn try_recv(&self) -> Option<Command> {
        self.pressed.try_recv().ok()
    }
}
