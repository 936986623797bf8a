//! Colours and text sizes: dark, light and high-contrast themes, scaled by the font setting.

use egui::{Color32, FontId, Stroke, TextStyle, Visuals};

use super::settings::Theme;
use super::SeesayApp;

impl SeesayApp {
    /// Applies the theme and text scale when they changed.
    pub(super) fn apply_style(&mut self, ctx: &egui::Context) {
        let key = (
            self.state.settings.theme,
            (self.state.settings.font_scale * 100.0).round() as u32,
        );
        if self.applied_style == Some(key) {
            return;
        }
        self.applied_style = Some(key);
        let theme = self.state.settings.theme;
        let scale = self.state.settings.font_scale;
        ctx.all_styles_mut(|style| {
            style.visuals = visuals(theme);
            let base = 15.0 * scale;
            style.text_styles = [
                (TextStyle::Small, FontId::proportional(base * 0.8)),
                (TextStyle::Body, FontId::proportional(base)),
                (TextStyle::Button, FontId::proportional(base)),
                (TextStyle::Monospace, FontId::monospace(base * 0.95)),
                (TextStyle::Heading, FontId::proportional(base * 1.6)),
            ]
            .into();
            style.spacing.button_padding = egui::vec2(8.0, 4.0) * scale.max(1.0);
            style.spacing.item_spacing = egui::vec2(8.0, 6.0) * scale.max(1.0);
            style.spacing.interact_size.y = 22.0 * scale.max(1.0);
        });
    }
}

fn visuals(theme: Theme) -> Visuals {
    match theme {
        Theme::Dark => {
            let mut v = Visuals::dark();
            v.selection.stroke = Stroke::new(2.0, Color32::from_rgb(120, 190, 255));
            v
        }
        Theme::Light => {
            let mut v = Visuals::light();
            v.selection.stroke = Stroke::new(2.0, Color32::from_rgb(0, 80, 180));
            v
        }
        Theme::HighContrast => {
            let mut v = Visuals::dark();
            let yellow = Color32::from_rgb(255, 230, 0);
            v.override_text_color = Some(Color32::WHITE);
            v.panel_fill = Color32::BLACK;
            v.window_fill = Color32::BLACK;
            v.extreme_bg_color = Color32::BLACK;
            v.faint_bg_color = Color32::from_gray(30);
            v.hyperlink_color = yellow;
            v.selection.bg_fill = Color32::from_rgb(0, 70, 160);
            v.selection.stroke = Stroke::new(3.0, yellow);
            for w in [
                &mut v.widgets.inactive,
                &mut v.widgets.hovered,
                &mut v.widgets.active,
                &mut v.widgets.open,
            ] {
                w.bg_fill = Color32::BLACK;
                w.weak_bg_fill = Color32::BLACK;
                w.bg_stroke = Stroke::new(2.0, Color32::WHITE);
                w.fg_stroke = Stroke::new(2.0, Color32::WHITE);
            }
            v.widgets.hovered.bg_stroke = Stroke::new(3.0, yellow);
            v.widgets.noninteractive.fg_stroke = Stroke::new(1.5, Color32::WHITE);
            v.widgets.noninteractive.bg_stroke = Stroke::new(1.5, Color32::WHITE);
            v
        }
    }
}

/// The colour for a word the model gave probability `p`: confident, unsure, or doubtful.
pub(super) fn prob_color(p: f32, dark: bool) -> Color32 {
    match (p >= 0.5, p >= 0.2, dark) {
        (true, _, true) => Color32::from_rgb(130, 220, 130),
        (true, _, false) => Color32::from_rgb(0, 120, 0),
        (false, true, true) => Color32::from_rgb(250, 200, 80),
        (false, true, false) => Color32::from_rgb(150, 95, 0),
        (false, false, true) => Color32::from_rgb(255, 130, 120),
        (false, false, false) => Color32::from_rgb(180, 0, 0),
    }
}
