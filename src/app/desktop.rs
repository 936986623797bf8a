//! A question asked of the desktop over D-Bus: is a screen reader running. It blocks on the
//! session bus, so it runs on a helper thread, never on the UI thread.

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
