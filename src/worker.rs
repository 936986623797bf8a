//! The background thread that owns the captioning model: jobs go in, events come out.
//!
//! The UI never touches the model. It sends [`Request`]s and reads [`Event`]s; the worker calls
//! the waker (the app's `request_repaint`) after every event so the window wakes up. A newer
//! caption request supersedes every older one still queued, so browsing quickly through a folder
//! never queues hundreds of captions. Panics are caught, reported, and the model is reloaded.

use std::collections::{HashMap, VecDeque};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, Sender, TryRecvError};
use std::sync::Arc;
use std::thread::JoinHandle;

use image::DynamicImage;

use crate::captioner::{CaptionOptions, Captioner, ModelSource};
use crate::describer::{Describer, Description, Mode};
use crate::device::DeviceChoice;

/// Called by the worker after it sends an event (the app passes `ctx.request_repaint`).
pub type Waker = Arc<dyn Fn() + Send + Sync>;

/// What to caption.
#[derive(Clone)]
pub enum JobInput {
    /// An image file, read and decoded by the worker.
    Path(PathBuf),
    /// An image already decoded (clipboard, screenshot, or a file the UI decoded for display).
    Image {
        /// The file it came from, if any: the key of the caption cache.
        path: Option<PathBuf>,
        /// The pixels.
        image: Arc<DynamicImage>,
        /// What was wrong with its file (it ends early), said before the caption.
        warnings: Vec<crate::preprocess::Warning>,
    },
}

impl JobInput {
    fn path(&self) -> Option<&PathBuf> {
        match self {
            JobInput::Path(p) => Some(p),
            JobInput::Image { path, .. } => path.as_ref(),
        }
    }
}

impl std::fmt::Debug for JobInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JobInput::Path(p) => write!(f, "Path({})", p.display()),
            JobInput::Image { path, image, .. } => write!(
                f,
                "Image({}x{} from {:?})",
                image.width(),
                image.height(),
                path
            ),
        }
    }
}

/// One caption request.
#[derive(Debug, Clone)]
pub struct Job {
    /// Chosen by the UI, increasing; results carry it back so stale ones can be ignored.
    pub id: u64,
    /// The image.
    pub input: JobInput,
    /// Beam size, candidates, length.
    pub options: CaptionOptions,
}

/// A request to find where the model looks for each word of a caption (by the model's
/// attention when it has one, else by occlusion).
#[derive(Debug, Clone)]
pub struct LookJob {
    /// Chosen by the UI; the result carries it back so a stale one can be ignored.
    pub id: u64,
    /// The picture, as captioned.
    pub image: Arc<DynamicImage>,
    /// The caption whose words are looked for.
    pub caption: String,
    /// Cells per side of the occlusion grid (a model with attention uses its own 7×7 grid).
    pub grid: usize,
}

/// Messages from the UI to the worker.
#[derive(Debug, Clone)]
pub enum Request {
    /// Caption this now; supersedes any caption request still queued.
    Caption(Job),
    /// Caption this file ahead of time when idle (the next image of a folder).
    Prefetch(PathBuf, CaptionOptions),
    /// Find where the model looks for each word; only the newest such request is run, after
    /// any caption request.
    Look(LookJob),
    /// Forget every cached caption (the options changed).
    ClearCache,
    /// Panic on purpose, to test that the worker recovers.
    #[doc(hidden)]
    CrashForTest(u64),
    /// Stop the thread.
    Shutdown,
}

/// Messages from the worker to the UI.
#[derive(Debug, Clone)]
pub enum Event {
    /// The model started loading.
    Loading,
    /// The model is ready.
    ModelLoaded {
        /// The model's name.
        name: String,
        /// "CPU" or "CUDA".
        device: String,
    },
    /// The model could not be loaded; every job will fail with this message.
    ModelFailed {
        /// What went wrong, for the user.
        message: String,
    },
    /// The worker started on job `id`.
    Busy {
        /// The job.
        id: u64,
    },
    /// Captions of job `id` (or of a prefetch, with id 0).
    Captioned {
        /// The job; 0 for a prefetch.
        id: u64,
        /// The file captioned, if any (the cache key).
        path: Option<PathBuf>,
        /// What seesay says of it: kind, text, captions.
        result: Box<Description>,
    },
    /// Job `id` failed.
    Failed {
        /// The job (0 for a prefetch).
        id: u64,
        /// The file, if any.
        path: Option<PathBuf>,
        /// What went wrong, for the user.
        message: String,
    },
    /// Where the model looks, for the [`LookJob`] with this id, or why it could not tell.
    Looked {
        /// The look job.
        id: u64,
        /// Each word's map, or what went wrong, for the user.
        result: Result<Box<crate::inspect::Occlusion>, String>,
    },
    /// The worker panicked; it reloads the model and keeps serving.
    Crashed {
        /// The panic message.
        message: String,
    },
    /// The thread ended: `None` when asked to, or the reason it failed.
    Stopped(Option<String>),
}

/// The UI's handle on the worker thread.
pub struct Worker {
    tx: Sender<Request>,
    rx: Receiver<Event>,
    handle: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker thread; it loads the model at once and reports `ModelLoaded`/`ModelFailed`.
    pub fn spawn(source: ModelSource, device: DeviceChoice, waker: Waker) -> std::io::Result<Self> {
        let (tx, job_rx) = mpsc::channel();
        let (event_tx, rx) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("seesay-worker".into())
            .spawn(move || {
                let out = Outbox {
                    tx: event_tx,
                    waker,
                };
                let outcome = catch_unwind(AssertUnwindSafe(|| {
                    Serve::new(source, device, job_rx, &out).run()
                }));
                let reason = match outcome {
                    Ok(()) => None,
                    Err(panic) => Some(panic_message(panic.as_ref())),
                };
                out.send(Event::Stopped(reason));
            })?;
        Ok(Self {
            tx,
            rx,
            handle: Some(handle),
        })
    }

    /// Sends a request; false when the worker has stopped.
    pub fn send(&self, request: Request) -> bool {
        self.tx.send(request).is_ok()
    }

    /// The next event, if one is waiting.
    pub fn try_recv(&self) -> Option<Event> {
        self.rx.try_recv().ok()
    }

    /// Waits up to `timeout` for the next event (for tools and tests).
    pub fn recv_timeout(&self, timeout: std::time::Duration) -> Option<Event> {
        self.rx.recv_timeout(timeout).ok()
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.tx.send(Request::Shutdown);
        // Do not join: a caption in progress may take a while, and the app is closing.
        drop(self.handle.take());
    }
}

struct Outbox {
    tx: Sender<Event>,
    waker: Waker,
}

impl Outbox {
    fn send(&self, event: Event) {
        let _ = self.tx.send(event);
        (self.waker)();
    }
}

struct Serve<'a> {
    source: ModelSource,
    device: DeviceChoice,
    rx: Receiver<Request>,
    out: &'a Outbox,
    model: Result<Describer, String>,
    cache: HashMap<PathBuf, (CaptionOptions, Box<Description>)>,
    pending: VecDeque<Request>,
}

impl<'a> Serve<'a> {
    fn new(
        source: ModelSource,
        device: DeviceChoice,
        rx: Receiver<Request>,
        out: &'a Outbox,
    ) -> Self {
        let mut serve = Self {
            source,
            device,
            rx,
            out,
            model: Err("the model is loading".into()),
            cache: HashMap::new(),
            pending: VecDeque::new(),
        };
        serve.load();
        serve
    }

    fn load(&mut self) {
        self.out.send(Event::Loading);
        let (source, device) = (self.source.clone(), self.device);
        let loaded = catch_unwind(move || {
            let selected = crate::device::select(device).map_err(|e| e.to_string())?;
            Captioner::load(&source, &selected.device)
                .map(Describer::new)
                .map_err(|e| e.to_string())
        })
        .unwrap_or_else(|panic| {
            Err(format!(
                "loading crashed: {}",
                panic_message(panic.as_ref())
            ))
        });
        match &loaded {
            Ok(d) => self.out.send(Event::ModelLoaded {
                name: d.captioner().name().to_owned(),
                device: d.captioner().device_name(),
            }),
            Err(message) => self.out.send(Event::ModelFailed {
                message: format!("Cannot load the captioning model: {message}"),
            }),
        }
        self.model = loaded;
    }

    /// Serves requests until Shutdown or until the UI hangs up.
    fn run(mut self) {
        loop {
            if self.pending.is_empty() {
                match self.rx.recv() {
                    Ok(r) => self.pending.push_back(r),
                    Err(_) => return,
                }
            }
            loop {
                match self.rx.try_recv() {
                    Ok(r) => self.pending.push_back(r),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => return,
                }
            }
            match self.next_request() {
                Some(Request::Shutdown) => return,
                Some(Request::ClearCache) => self.cache.clear(),
                Some(Request::Caption(job)) => self.run_job(job.id, job.input, job.options),
                Some(Request::Look(job)) => self.look(job),
                Some(Request::Prefetch(path, options)) if !self.cached(&path, &options) => {
                    self.run_job(0, JobInput::Path(path), options);
                }
                Some(Request::Prefetch(..)) => {}
                Some(Request::CrashForTest(id)) => {
                    self.run_guarded::<Description>(id, None, |_| {
                        panic!("crash requested by a test")
                    });
                }
                None => {}
            }
        }
    }

    /// Picks what to do next: shutdown and cache clears first, then the newest caption request
    /// (older ones are dropped), then the newest prefetch.
    fn next_request(&mut self) -> Option<Request> {
        if let Some(pos) = self
            .pending
            .iter()
            .position(|r| matches!(r, Request::Shutdown | Request::ClearCache))
        {
            return self.pending.remove(pos);
        }
        if let Some(pos) = self
            .pending
            .iter()
            .rposition(|r| matches!(r, Request::Caption(_) | Request::CrashForTest(_)))
        {
            let newest = self.pending.remove(pos);
            self.pending
                .retain(|r| !matches!(r, Request::Caption(_) | Request::CrashForTest(_)));
            return newest;
        }
        if let Some(pos) = self
            .pending
            .iter()
            .rposition(|r| matches!(r, Request::Look(_)))
        {
            let newest = self.pending.remove(pos);
            self.pending.retain(|r| !matches!(r, Request::Look(_)));
            return newest;
        }
        // Only prefetches are left: the newest matters most, keep at most a few.
        let newest = self.pending.pop_back();
        while self.pending.len() > 4 {
            self.pending.pop_front();
        }
        newest
    }

    fn cached(&self, path: &PathBuf, options: &CaptionOptions) -> bool {
        self.cache.get(path).is_some_and(|(o, _)| o == options)
    }

    fn run_job(&mut self, id: u64, input: JobInput, options: CaptionOptions) {
        let path = input.path().cloned();
        if let Some(p) = &path {
            if let Some((o, result)) = self.cache.get(p) {
                if *o == options {
                    let result = result.clone();
                    self.out.send(Event::Captioned { id, path, result });
                    return;
                }
            }
        }
        if id != 0 {
            self.out.send(Event::Busy { id });
        }
        let outcome = self.run_guarded(id, path.clone(), |describer| match &input {
            JobInput::Path(p) => describer.describe_file(p, &options, Mode::Auto),
            JobInput::Image {
                image, warnings, ..
            } => describer
                .describe(image, &options, Mode::Auto)
                .map(|mut d| {
                    d.warn(warnings);
                    d
                }),
        });
        match outcome {
            Some(Ok(result)) => {
                let result = Box::new(result);
                if let Some(p) = &path {
                    self.cache.insert(p.clone(), (options, result.clone()));
                }
                self.out.send(Event::Captioned { id, path, result });
            }
            Some(Err(message)) => self.out.send(Event::Failed { id, path, message }),
            None => {}
        }
    }

    fn look(&mut self, job: LookJob) {
        // Id 0: a crash reported as Failed must not be taken for the shown caption's failure.
        let outcome = self.run_guarded(0, None, |describer| {
            describer
                .captioner()
                .where_it_looks(&job.image, &job.caption, job.grid)
        });
        // After a crash the UI has been told (Failed, Crashed); it still waits for this answer.
        let result = match outcome {
            Some(r) => r.map(Box::new),
            None => Err("the captioner crashed while looking; it has been restarted".into()),
        };
        self.out.send(Event::Looked { id: job.id, result });
    }

    /// Runs `f` on the model, catching panics; after a panic the model is reloaded.
    /// Returns None when the failure was already reported.
    fn run_guarded<T>(
        &mut self,
        id: u64,
        path: Option<PathBuf>,
        f: impl FnOnce(&mut Describer) -> crate::Result<T>,
    ) -> Option<Result<T, String>> {
        let describer = match &mut self.model {
            Ok(d) => d,
            Err(e) => return Some(Err(format!("No captioning model: {e}"))),
        };
        match catch_unwind(AssertUnwindSafe(|| f(describer))) {
            Ok(Ok(result)) => Some(Ok(result)),
            Ok(Err(e)) => Some(Err(e.to_string())),
            Err(panic) => {
                let message = panic_message(panic.as_ref());
                self.out.send(Event::Failed {
                    id,
                    path,
                    message: format!("The captioner crashed ({message}); it has been restarted."),
                });
                self.out.send(Event::Crashed { message });
                self.cache.clear();
                self.load();
                None
            }
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_owned()
    }
}
