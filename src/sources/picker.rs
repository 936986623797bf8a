//! Asking the user for a picture or a folder: the system's file dialog, or a scripted answer
//! where a test machine has no desktop to show one.

use std::path::PathBuf;
use std::sync::Mutex;

/// No file dialog can be shown here (neither the desktop portal nor zenity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoDialog;

/// Shows a file dialog and waits for the user's choice. Called on a helper thread: it blocks.
pub trait FilePicker: Send + Sync {
    /// A folder (`folder`) or a picture the user chose; `Ok(None)` when they cancelled.
    fn pick(&self, folder: bool) -> Result<Option<PathBuf>, NoDialog>;
}

/// The desktop's file dialog, through rfd (the portal, or zenity).
pub struct SystemPicker;

impl FilePicker for SystemPicker {
    fn pick(&self, folder: bool) -> Result<Option<PathBuf>, NoDialog> {
        // Without a portal or zenity rfd returns at once as if the user had cancelled, which
        // would leave a blind user with silence.
        if !file_dialog_available() {
            return Err(NoDialog);
        }
        let dialog = rfd::FileDialog::new().set_title(if folder {
            "Open a folder of pictures"
        } else {
            "Open a picture"
        });
        Ok(if folder {
            dialog.pick_folder()
        } else {
            dialog
                .add_filter("Images", super::file::IMAGE_EXTENSIONS)
                .add_filter("All files", &["*"])
                .pick_file()
        })
    }
}

/// Answers from a script, for tests: each call takes the next answer; with none left, there is
/// no dialog.
pub struct ScriptedPicker {
    answers: Mutex<Vec<Result<Option<PathBuf>, NoDialog>>>,
}

impl ScriptedPicker {
    /// A picker that gives `answers` in order, then says no dialog can be shown.
    pub fn new(answers: Vec<Result<Option<PathBuf>, NoDialog>>) -> Self {
        Self {
            answers: Mutex::new(answers.into_iter().rev().collect()),
        }
    }

    /// A picker on a machine without any file dialog.
    pub fn none() -> Self {
        Self::new(Vec::new())
    }
}

impl FilePicker for ScriptedPicker {
    fn pick(&self, _folder: bool) -> Result<Option<PathBuf>, NoDialog> {
        self.answers
            .lock()
            .ok()
            .and_then(|mut a| a.pop())
            .unwrap_or(Err(NoDialog))
    }
}

/// Whether a file dialog can be shown: the desktop portal is on the session bus (running or
/// startable), or `zenity` is installed (rfd's two ways on Linux). Without either, rfd returns
/// nothing at once, as if the user had cancelled.
fn file_dialog_available() -> bool {
    zenity_installed() || portal_available()
}

fn zenity_installed() -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join("zenity").is_file()))
}

fn portal_available() -> bool {
    const PORTAL: &str = "org.freedesktop.portal.Desktop";
    async_io::block_on(async {
        let Ok(conn) = zbus::Connection::session().await else {
            return false;
        };
        let owned = conn
            .call_method(
                Some("org.freedesktop.DBus"),
                "/org/freedesktop/DBus",
                Some("org.freedesktop.DBus"),
                "NameHasOwner",
                &(PORTAL,),
            )
            .await
            .is_ok_and(|reply| reply.body().deserialize::<bool>().unwrap_or(false));
        if owned {
            return true;
        }
        let names = conn
            .call_method(
                Some("org.freedesktop.DBus"),
                "/org/freedesktop/DBus",
                Some("org.freedesktop.DBus"),
                "ListActivatableNames",
                &(),
            )
            .await;
        match names {
            Ok(reply) => reply
                .body()
                .deserialize::<Vec<String>>()
                .is_ok_and(|names| names.iter().any(|n| n == PORTAL)),
            Err(_) => false,
        }
    })
}
