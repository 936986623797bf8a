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

/// Builds the speaker. Called on the speech thread, because connecting can hang (speech-dispatcher's
/// `spd_open` waits without a time limit when the service does not answer).
pub type SpeakerFactory = Box<dyn FnOnce() -> Result<Box<dyn Speaker>, String> + Send>;

/// A factory that hands over a speaker already made (fakes in tests).
pub fn ready(speaker: impl Speaker + Send + 'static) -> SpeakerFactory {
    Box::new(move || Ok(Box::new(speaker) as Box<dyn Speaker>))
}

/// The system's engine, connected on the speech thread.
pub fn system() -> SpeakerFactory {
    Box::new(|| TtsSpeaker::new().map(|s| Box::new(s) as Box<dyn Speaker>))
}

/// What the speech thread is asked to do.
#[derive(Debug, Clone, PartialEq)]
enum Request {
    Speak(String),
    Stop,
    Rate(f32),
    Voice(String),
}

/// What the speech thread reports.
enum Reply {
    Connected {
        voices: Vec<String>,
    },
    NoEngine(String),
    Failed(String),
    Finished,
    /// Every request up to this number has been carried out.
    Done(u64),
}

/// What the app learns from [`SpeechThread::poll`].
#[derive(Debug, Clone, PartialEq)]
pub enum SpeechNotice {
    /// The engine is connected; these are its voices.
    Ready {
        /// Voice names.
        voices: Vec<String>,
    },
    /// There is no voice: the engine is missing or did not answer in time. Told once.
    Unavailable(String),
    /// The engine answered again after it had not.
    Recovered,
    /// A call failed (the engine is there).
    Failed(String),
    /// The utterance has ended.
    Finished,
}

/// Speech on its own thread: every call (connect, speak, stop, rate, voice, the speaking poll)
/// runs there, so a speech service that hangs can never freeze the window. The caller's side
/// only sends messages and keeps a watchdog: a request not carried out within the time limit
/// makes speech "unavailable" (told once), and new utterances are dropped, not queued, until the
/// engine answers again.
pub struct SpeechThread {
    tx: std::sync::mpsc::Sender<(u64, Request)>,
    rx: std::sync::mpsc::Receiver<Reply>,
    timeout: std::time::Duration,
    sent: u64,
    done: u64,
    /// When the oldest request not yet carried out was sent (connecting counts as one).
    waiting_since: Option<std::time::Instant>,
    /// No voice: why (set once; cleared when a hung engine answers again).
    unavailable: Option<String>,
    hung: bool,
}

/// How often the thread asks the engine whether it is still speaking.
const SPEAKING_POLL: std::time::Duration = std::time::Duration::from_millis(150);

impl SpeechThread {
    /// Starts the thread, which makes the speaker with `factory`; `wake` is called whenever
    /// there is something to [`poll`](Self::poll). Each call must be carried out within `timeout`.
    pub fn spawn(
        factory: SpeakerFactory,
        timeout: std::time::Duration,
        wake: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<Self, String> {
        let (tx, requests) = std::sync::mpsc::channel();
        let (replies, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("seesay-speech".into())
            .spawn(move || speech_loop(factory, &requests, &replies, &*wake))
            .map_err(|e| format!("Cannot start the speech thread: {e}"))?;
        Ok(Self {
            tx,
            rx,
            timeout,
            sent: 0,
            done: 0,
            waiting_since: Some(std::time::Instant::now()),
            unavailable: None,
            hung: false,
        })
    }

    /// Speaks `text`, interrupting what is being said. Returns false (and sends nothing) while
    /// speech is unavailable.
    pub fn speak(&mut self, text: &str) -> bool {
        if self.unavailable.is_some() {
            return false;
        }
        self.send(Request::Speak(text.to_owned()))
    }

    /// Stops speaking.
    pub fn stop(&mut self) {
        if self.unavailable.is_none() {
            self.send(Request::Stop);
        }
    }

    /// Sets the rate (1.0 normal); kept for when the engine answers.
    pub fn set_rate(&mut self, rate: f32) {
        self.send(Request::Rate(rate));
    }

    /// Chooses a voice by name (empty: the default).
    pub fn set_voice(&mut self, name: &str) {
        self.send(Request::Voice(name.to_owned()));
    }

    /// Why there is no voice, if there is none.
    pub fn unavailable(&self) -> Option<&str> {
        self.unavailable.as_deref()
    }

    /// How long until the watchdog must look again (None: nothing is outstanding).
    pub fn next_check(&self) -> Option<std::time::Duration> {
        if self.hung {
            return None;
        }
        self.waiting_since
            .map(|t| self.timeout.saturating_sub(t.elapsed()))
    }

    fn send(&mut self, request: Request) -> bool {
        self.sent += 1;
        if self.waiting_since.is_none() {
            self.waiting_since = Some(std::time::Instant::now());
        }
        if self.tx.send((self.sent, request)).is_err() && self.unavailable.is_none() {
            self.unavailable = Some("The speech thread has stopped.".to_owned());
        }
        true
    }

    /// What happened since the last call, and whether the engine has stopped answering.
    pub fn poll(&mut self) -> Vec<SpeechNotice> {
        let mut out = Vec::new();
        while let Ok(reply) = self.rx.try_recv() {
            match reply {
                Reply::Connected { voices } => {
                    self.ready();
                    out.extend(self.recovered());
                    out.push(SpeechNotice::Ready { voices });
                }
                Reply::NoEngine(reason) => {
                    self.ready();
                    self.hung = false;
                    if self.unavailable.is_none() {
                        self.unavailable = Some(reason.clone());
                        out.push(SpeechNotice::Unavailable(reason));
                    }
                }
                Reply::Failed(message) => out.push(SpeechNotice::Failed(message)),
                Reply::Finished => out.push(SpeechNotice::Finished),
                Reply::Done(n) => {
                    self.done = self.done.max(n);
                    self.waiting_since = (self.done < self.sent).then(std::time::Instant::now);
                    out.extend(self.recovered());
                }
            }
        }
        let late = self
            .waiting_since
            .is_some_and(|t| t.elapsed() >= self.timeout);
        if late && !self.hung {
            self.hung = true;
            if self.unavailable.is_none() {
                let reason = format!(
                    "the speech service did not answer within {:.0} seconds (is \
                     speech-dispatcher stuck?)",
                    self.timeout.as_secs_f32()
                );
                self.unavailable = Some(reason.clone());
                out.push(SpeechNotice::Unavailable(reason));
            }
        }
        out
    }

    /// Connecting has been answered: it no longer counts as outstanding.
    fn ready(&mut self) {
        // Requests sent meanwhile start now that there is an engine to carry them out.
        self.waiting_since = (self.done < self.sent).then(std::time::Instant::now);
    }

    fn recovered(&mut self) -> Option<SpeechNotice> {
        if !self.hung {
            return None;
        }
        self.hung = false;
        self.unavailable = None;
        Some(SpeechNotice::Recovered)
    }
}

fn speech_loop(
    factory: SpeakerFactory,
    requests: &std::sync::mpsc::Receiver<(u64, Request)>,
    replies: &std::sync::mpsc::Sender<Reply>,
    wake: &(dyn Fn() + Send + Sync),
) {
    let reply = |r: Reply| {
        let _ = replies.send(r);
        wake();
    };
    let mut speaker = match factory() {
        Ok(speaker) => speaker,
        Err(reason) => {
            reply(Reply::NoEngine(reason));
            // Still answer, so the caller never takes a missing engine for a hung one.
            while let Ok((n, _)) = requests.recv() {
                reply(Reply::Done(n));
            }
            return;
        }
    };
    reply(Reply::Connected {
        voices: speaker.voices(),
    });
    let mut speaking = false;
    loop {
        let first = if speaking {
            match requests.recv_timeout(SPEAKING_POLL) {
                Ok(r) => r,
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                    if !speaker.is_speaking() {
                        speaking = false;
                        reply(Reply::Finished);
                    }
                    continue;
                }
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            }
        } else {
            match requests.recv() {
                Ok(r) => r,
                Err(_) => return,
            }
        };
        let mut batch = vec![first];
        batch.extend(requests.try_iter());
        let last = batch.iter().map(|(n, _)| *n).max().unwrap_or(0);
        // Settings in order; of the utterances only the last counts (speaking interrupts), so a
        // backlog built while the engine was slow is not read out item by item.
        let mut utterance = None;
        for (_, request) in batch {
            let result = match request {
                Request::Rate(rate) => speaker.set_rate(rate),
                Request::Voice(name) => speaker.set_voice(&name),
                Request::Speak(_) | Request::Stop => {
                    utterance = Some(request);
                    Ok(())
                }
            };
            if let Err(e) = result {
                reply(Reply::Failed(e));
            }
        }
        match utterance {
            Some(Request::Speak(text)) => match speaker.speak(&text) {
                Ok(()) => speaking = true,
                Err(e) => {
                    speaking = false;
                    reply(Reply::Failed(e));
                }
            },
            Some(_) => {
                if let Err(e) = speaker.stop() {
                    reply(Reply::Failed(e));
                }
                if speaking {
                    speaking = false;
                    reply(Reply::Finished);
                }
            }
            None => {}
        }
        reply(Reply::Done(last));
    }
}
