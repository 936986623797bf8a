//! The user's settings, saved across restarts through eframe's storage.

use serde::{Deserialize, Serialize};

use crate::captioner::CaptionOptions;

/// The storage key the settings live under.
pub const STORAGE_KEY: &str = "seesay-settings";

/// Colour scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Theme {
    /// Light text on a dark background.
    #[default]
    Dark,
    /// Dark text on a light background.
    Light,
    /// White on black, yellow focus, thick outlines.
    HighContrast,
}

impl Theme {
    /// Every theme, for the picker.
    pub const ALL: [Theme; 3] = [Theme::Dark, Theme::Light, Theme::HighContrast];

    /// The name shown to the user.
    pub fn label(self) -> &'static str {
        match self {
            Theme::Dark => "Dark",
            Theme::Light => "Light",
            Theme::HighContrast => "High contrast",
        }
    }
}

/// Who reads captions and messages aloud.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum SpeakWith {
    /// The screen reader when one is running, else seesay's voice: never both at once.
    #[default]
    Automatic,
    /// seesay's own voice (speech-dispatcher).
    Voice,
    /// The screen reader, through announcements (live regions).
    ScreenReader,
    /// Both.
    Both,
}

impl SpeakWith {
    /// Every choice, for the picker.
    pub const ALL: [SpeakWith; 4] = [
        SpeakWith::Automatic,
        SpeakWith::Voice,
        SpeakWith::ScreenReader,
        SpeakWith::Both,
    ];

    /// The name shown to the user.
    pub fn label(self) -> &'static str {
        match self {
            SpeakWith::Automatic => "Automatic (the screen reader when one is running)",
            SpeakWith::Voice => "seesay's voice",
            SpeakWith::ScreenReader => "The screen reader",
            SpeakWith::Both => "Both",
        }
    }
}

/// Everything the user can set.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// Beam width (1 = greedy).
    pub beam_size: usize,
    /// How many candidates to show (at most the beam width).
    pub candidates: usize,
    /// Speak each caption as soon as it is ready.
    pub auto_speak: bool,
    /// The voice's name; empty for the engine's default.
    pub voice: String,
    /// Speech rate: 1.0 normal, 0.5 half speed, 2.0 double.
    pub rate: f32,
    /// Text size multiplier.
    pub font_scale: f32,
    /// Colour scheme.
    pub theme: Theme,
    /// Seconds to wait before a screenshot.
    pub screenshot_delay_s: u32,
    /// Which monitor to capture (None: the primary one).
    pub monitor: Option<usize>,
    /// Who reads captions aloud.
    pub speak_with: SpeakWith,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            beam_size: 3,
            candidates: 3,
            auto_speak: true,
            voice: String::new(),
            rate: 1.0,
            font_scale: 1.25,
            theme: Theme::Dark,
            screenshot_delay_s: 0,
            monitor: None,
            speak_with: SpeakWith::Automatic,
        }
    }
}

impl Settings {
    /// Clamps every value into its allowed range (stored settings may be from another version).
    pub fn sanitized(mut self) -> Self {
        self.beam_size = self.beam_size.clamp(1, 10);
        self.candidates = self.candidates.clamp(1, self.beam_size);
        self.rate = self.rate.clamp(0.5, 2.0);
        self.font_scale = self.font_scale.clamp(0.75, 3.0);
        self.screenshot_delay_s = self.screenshot_delay_s.min(10);
        self
    }

    /// The options passed to the captioner.
    pub fn caption_options(&self) -> CaptionOptions {
        CaptionOptions {
            beam_size: self.beam_size,
            candidates: self.candidates.min(self.beam_size),
            ..CaptionOptions::default()
        }
    }
}
