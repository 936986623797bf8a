//! Speaking captions aloud: a [`Speaker`] trait, the `tts` crate backend, and fakes for tests.
//!
//! Knows neither candle nor egui. A missing speech engine is an error the app shows; the app
//! keeps working without a voice ([`SilentSpeaker`]).

use std::sync::{Arc, Mutex, MutexGuard};

/// Something that can read text aloud.
pub trait Speaker {
    /// Speaks `text`, interrupting whatever is being spoken.
    fn speak(&mut self, text: &str) -> Result<(), String>;
    /// Stops speaking.
    fn stop(&mut self) -> Result<(), String>;
    /// True while an utterance is being spoken.
    fn is_speaking(&self) -> bool;
    /// Sets the speed: 1.0 is the engine's normal rate, 0.5 half, 2.0 double.
    fn set_rate(&mut self, rate: f32) -> Result<(), String>;
    /// The names of the voices the engine offers.
    fn voices(&self) -> Vec<String>;
    /// Chooses a voice by name; an empty name keeps the engine's default.
    fn set_voice(&mut self, name: &str) -> Result<(), String>;
    /// Why there is no voice, when the engine could not be started.
    fn unavailable(&self) -> Option<&str> {
        None
    }
}

/// The system's speech engine through the `tts` crate (speech-dispatcher on Linux).
pub struct TtsSpeaker {
    tts: tts::Tts,
    voices: Vec<tts::Voice>,
}

impl TtsSpeaker {
    /// Connects to the platform's speech engine.
    pub fn new() -> Result<Self, String> {
        let tts = tts::Tts::default().map_err(|e| {
            format!("No speech engine is available ({e}). Install speech-dispatcher and espeak-ng.")
        })?;
        let voices = if tts.supported_features().voice {
            tts.voices().unwrap_or_default()
        } else {
            Vec::new()
        };
        Ok(Self { tts, voices })
    }
}

impl Speaker for TtsSpeaker {
    fn speak(&mut self, text: &str) -> Result<(), String> {
        self.tts
            .speak(text, true)
            .map(|_| ())
            .map_err(|e| format!("Speech failed: {e}"))
    }

    fn stop(&mut self) -> Result<(), String> {
        self.tts
            .stop()
            .map(|_| ())
            .map_err(|e| format!("Cannot stop speech: {e}"))
    }

    fn is_speaking(&self) -> bool {
        self.tts.is_speaking().unwrap_or(false)
    }

    fn set_rate(&mut self, rate: f32) -> Result<(), String> {
        if !self.tts.supported_features().rate {
            return Ok(());
        }
        let (min, normal, max) = (
            self.tts.min_rate(),
            self.tts.normal_rate(),
            self.tts.max_rate(),
        );
        let rate = rate.clamp(0.5, 2.0);
        let value = if rate >= 1.0 {
            normal + (max - normal) * (rate - 1.0) / 1.0 * 0.5
        } else {
            normal - (normal - min) * (1.0 - rate) / 0.5 * 0.5
        };
        self.tts
            .set_rate(value.clamp(min, max))
            .map(|_| ())
            .map_err(|e| format!("Cannot set the speech rate: {e}"))
    }

    fn voices(&self) -> Vec<String> {
        self.voices.iter().map(tts::Voice::name).collect()
    }

    fn set_voice(&mut self, name: &str) -> Result<(), String> {
        if name.is_empty() {
            return Ok(());
        }
        let voice = self
            .voices
            .iter()
            .find(|v| v.name() == name)
            .cloned()
            .ok_or_else(|| format!("The voice {name:?} is not installed."))?;
        self.tts
            .set_voice(&voice)
            .map_err(|e| format!("Cannot use the voice {name:?}: {e}"))
    }
}

/// Stands in when no speech engine could be started: every call reports why.
pub struct SilentSpeaker {
    reason: String,
}

impl SilentSpeaker {
    /// A speaker that cannot speak, for `reason`.
    pub fn new(reason: impl Into<String>) -> Self {
        Self {
            reason: reason.into(),
        }
    }
}

impl Speaker for SilentSpeaker {
    fn speak(&mut self, _text: &str) -> Result<(), String> {
        Err(self.reason.clone())
    }
    fn stop(&mut self) -> Result<(), String> {
        Ok(())
    }
    fn is_speaking(&self) -> bool {
        false
    }
    fn set_rate(&mut self, _rate: f32) -> Result<(), String> {
        Ok(())
    }
    fn voices(&self) -> Vec<String> {
        Vec::new()
    }
    fn set_voice(&mut self, _name: &str) -> Result<(), String> {
        Ok(())
    }
    fn unavailable(&self) -> Option<&str> {
        Some(&self.reason)
    }
}

/// What a [`RecordingSpeaker`] was asked to do.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recording {
    /// Every text passed to `speak`, in order.
    pub spoken: Vec<String>,
    /// How many times `stop` was called.
    pub stops: usize,
    /// True between a `speak` and the next `stop`.
    pub speaking: bool,
    /// The last rate set.
    pub rate: Option<f32>,
    /// The last voice set.
    pub voice: Option<String>,
}

/// A fake speaker for tests: records what it is asked to say. Clones share one recording.
#[derive(Debug, Clone, Default)]
pub struct RecordingSpeaker {
    log: Arc<Mutex<Recording>>,
}

impl RecordingSpeaker {
    /// A new, empty recording.
    pub fn new() -> Self {
        Self::default()
    }

    /// A copy of what was recorded so far.
    pub fn recording(&self) -> Recording {
        self.lock().clone()
    }

    fn lock(&self) -> MutexGuard<'_, Recording> {
        self.log
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Speaker for RecordingSpeaker {
    fn speak(&mut self, text: &str) -> Result<(), String> {
        let mut log = self.lock();
        log.spoken.push(text.to_owned());
        log.speaking = true;
        Ok(())
    }
    fn stop(&mut self) -> Result<(), String> {
        let mut log = self.lock();
        log.stops += 1;
        log.speaking = false;
        Ok(())
    }
    fn is_speaking(&self) -> bool {
        self.lock().speaking
    }
    fn set_rate(&mut self, rate: f32) -> Result<(), String> {
        self.lock().rate = Some(rate);
        Ok(())
    }
    fn voices(&self) -> Vec<String> {
        vec!["Test voice".to_owned()]
    }
    fn set_voice(&mut self, name: &str) -> Result<(), String> {
        self.lock().voice = Some(name.to_owned());
        Ok(())
    }
}

/// Speaks `text` with the system engine and waits until it has been said, all within
/// `timeout`: connecting, speaking and waiting run on their own thread, so a stuck
/// speech-dispatcher (whose connection step has no time limit of its own) cannot hold the
/// caller past it. Says why when nothing could be said.
///
/// Used by `seesay speak`, the real-speech check.
pub fn speak_blocking(text: &str, rate: f32, timeout: std::time::Duration) -> Result<(), String> {
    use std::time::{Duration, Instant};
    if text.trim().is_empty() {
        return Err("There is nothing to say: give the text to speak.".into());
    }
    let deadline = Instant::now() + timeout;
    let (tx, rx) = std::sync::mpsc::channel();
    let owned = text.to_owned();
    std::thread::Builder::new()
        .name("speak".into())
        .spawn(move || {
            let _ = tx.send(speak_until(&owned, rate, deadline));
        })
        .map_err(|e| format!("Cannot start speaking: {e}"))?;
    // A little beyond the deadline, so the thread's own answer wins when it has one.
    match rx.recv_timeout(timeout + Duration::from_millis(500)) {
        Ok(result) => result,
        Err(_) => Err(format!(
            "The speech engine did not answer within {} s, so nothing was said; \
             speech-dispatcher may be stuck (restarting it, or logging in again, may help).",
            timeout.as_secs()
        )),
    }
}

fn speak_until(text: &str, rate: f32, deadline: std::time::Instant) -> Result<(), String> {
    use std::time::{Duration, Instant};
    let mut speaker = TtsSpeaker::new()?;
    speaker.set_rate(rate)?;
    speaker.speak(text)?;
    let start = Instant::now();
    // speech-dispatcher reports "speaking" only once the utterance begins.
    let mut began = false;
    while Instant::now() < deadline {
        let now = speaker.is_speaking();
        if now {
            began = true;
        } else if began || start.elapsed() > Duration::from_secs(5) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    if began && speaker.is_speaking() {
        return Err(
            "Speech had not finished in the time allowed (--timeout): the audio output may be \
             missing or stuck (is PulseAudio or PipeWire running?)."
                .into(),
        );
    }
    if !began {
        // The engine never said it started; give it time proportional to the text anyway.
        let wait = Duration::from_millis(600 + 70 * text.len() as u64);
        std::thread::sleep(wait.min(deadline.saturating_duration_since(Instant::now())));
    }
    Ok(())
}
