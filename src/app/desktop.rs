//! Questions asked of the desktop over D-Bus: is a screen reader running, is there a file dialog.
//! Each blocks on the session bus, so they run on helper threads, never on the UI thread.

/// What the AT-SPI bus says: `org.a11y.Status.ScreenReaderEnabled`, which Orca sets while it runs.
pub(super) fn screen_reader_enabled() -> Result<bool, String> {
    async_io::block_on(async {
        let conn = zbus::Connection::session()
            .await
            .map_err(|e| format!("no D-Bus session bus ({e})"))?;
        let proxy = zbus::Proxy::new(&conn, "org.a11y.Bus", "/org/a11y/bus", "org.a11y.Status")
            .await
            .map_err(|e| format!("no accessibility bus ({e})"))?;
        proxy
            .get_property::<bool>("ScreenReaderEnabled")
            .await
            .map_err(|e| format!("cannot read ScreenReaderEnabled ({e})"))
    })
}

/// Whether a file dialog can be shown: the desktop portal is on the session bus (running or
/// startable), or `zenity` is installed (rfd's two ways on Linux). Without either, rfd returns
/// nothing at once, as if the user had cancelled.
pub(super) fn file_dialog_available() -> bool {
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
