//! A team of kernel threads that stays awake between the encoder's layers.
//!
//! rayon's workers go to sleep a few microseconds after their queue empties, and waking one
//! costs tens of microseconds: about as long as one of the encoder's small layers. A layer
//! split over two threads then ran barely faster than on one. The team's helpers instead spin
//! for a while after each task, so the next layer finds them awake, and only then park. The
//! caller always works on its own task too. Each thread starts on its own share of a task's
//! jobs and then takes what is left of the others', one job at a time, so a thread that is
//! late or descheduled never holds the others up.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// How long an idle helper spins before it parks: longer than the gap between two layers,
/// short enough that an idle app does not keep a core busy.
const SPIN: Duration = Duration::from_micros(500);

/// How many threads the CPU kernels use (candle's setting: `RAYON_NUM_THREADS`, else every
/// core).
pub(crate) fn threads() -> usize {
    candle_core::utils::get_num_threads()
}

/// Runs `job(state, i)` for every `i` in `0..n`, spread over the team's threads when more than
/// one is in use. Each thread makes its own `state` with `init` before its first job.
///
/// The jobs are dealt out first: with T threads, thread r (the caller is 0) starts on jobs
/// `r * n / T .. (r + 1) * n / T`, and only then takes jobs left in other threads' shares.
/// A layer that gives its threads the same parts of its work every time then finds, on each
/// core, the data it had there: its part of the weights, and its part of the output buffers
/// the allocator hands back. Taken first come, first served, those parts changed cores from
/// one run to the next.
pub(crate) fn for_each_init<S>(
    n: usize,
    init: impl Fn() -> S + Sync,
    job: impl Fn(&mut S, usize) + Sync,
) {
    let team = if n > 1 { team() } else { None };
    let Some(team) = team.filter(|t| t.enter()) else {
        let mut state = init();
        (0..n).for_each(|i| job(&mut state, i));
        return;
    };
    assert!(
        n <= INDEX_MASK as usize,
        "{n} jobs are more than one task can hold"
    );
    // Returns how many jobs it ran; they are counted as done only after it has returned,
    // since the caller may leave (and this closure's frame with it) once all are done.
    let share = |first: usize| {
        let mut state = init();
        let (mut i, mut ran) = (first, 0);
        loop {
            if let Err(cause) = catch_unwind(AssertUnwindSafe(|| job(&mut state, i))) {
                team.record_panic(cause);
            }
            ran += 1;
            match team.claim() {
                Some(next) => i = next,
                None => break,
            }
        }
        ran
    };
    team.run(n, &share);
}

thread_local! {
    /// Which share of a task this thread starts on: 0 for callers, i for helper i.
    static RANK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// Runs `job(i)` for every `i` in `0..n` on the team (see [`for_each_init`]).
pub(crate) fn for_each(n: usize, job: impl Fn(usize) + Sync) {
    for_each_init(n, || (), |_, i| job(i));
}

/// Runs `job(state, i, chunk)` for each `chunk`-long piece of `data` (the last may be shorter),
/// on the team (see [`for_each_init`]).
pub(crate) fn for_each_chunk_mut<T: Send, S>(
    data: &mut [T],
    chunk: usize,
    init: impl Fn() -> S + Sync,
    job: impl Fn(&mut S, usize, &mut [T]) + Sync,
) {
    assert!(chunk > 0, "chunks must not be empty");
    let len = data.len();
    let base = SendPtr(data.as_mut_ptr());
    for_each_init(len.div_ceil(chunk), init, |state, i| {
        let start = i * chunk;
        let end = (start + chunk).min(len);
        // SAFETY: each index is run once, so the chunks handed out never overlap, and all of
        // them lie inside `data`, which the call borrows mutably until every job is done.
        let piece = unsafe { std::slice::from_raw_parts_mut(base.get().add(start), end - start) };
        job(state, i, piece);
    });
}

/// A raw pointer that jobs on other threads may use; whoever makes one guarantees that the
/// jobs touch disjoint parts of what it points at.
pub(crate) struct SendPtr<T>(*mut T);

impl<T> SendPtr<T> {
    /// Wraps `p`; the jobs that use it must write disjoint elements.
    pub(crate) fn new(p: *mut T) -> Self {
        Self(p)
    }

    /// The pointer.
    pub(crate) fn get(&self) -> *mut T {
        self.0
    }
}

// SAFETY: the maker of a SendPtr promises disjoint access from the jobs, and T: Send.
unsafe impl<T: Send> Sync for SendPtr<T> {}

// The task word: an epoch (so a stale compare-and-swap cannot succeed on a later task with
// the same counts), the number of jobs and the next job to claim.
const INDEX_BITS: u32 = 16;
const INDEX_MASK: u64 = (1 << INDEX_BITS) - 1;

const EPOCH_MASK: u64 = (1 << (64 - 2 * INDEX_BITS)) - 1;

fn pack(epoch: u64, n: usize, next: usize) -> u64 {
    (epoch << (2 * INDEX_BITS)) | ((n as u64) << INDEX_BITS) | next as u64
}

fn unpack(word: u64) -> (u64, usize, usize) {
    (
        word >> (2 * INDEX_BITS),
        ((word >> INDEX_BITS) & INDEX_MASK) as usize,
        (word & INDEX_MASK) as usize,
    )
}

/// What a participant runs once it has claimed a first job: that job, then every other job
/// it can claim; it returns how many it ran.
type Share<'a> = dyn Fn(usize) -> usize + Sync + 'a;

/// A value alone on its cache lines (two, for the prefetcher that fetches lines in pairs):
/// each thread's share counter is written by that thread at every job, and counters side
/// by side would bounce one line between the cores.
#[repr(align(128))]
struct Padded<T>(T);

struct Team {
    task: AtomicU64,
    // Each thread's share of the open task as (epoch, end, next), written before the task
    // word is published.
    shares: Box<[Padded<AtomicU64>]>,
    // Points at the caller's `&Share`, valid while the task has unfinished jobs.
    share: AtomicPtr<()>,
    done: AtomicUsize,
    busy: AtomicBool,
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

/// The process's team, with `threads() - 1` helpers, made on first use; none with one thread.
fn team() -> Option<&'static Team> {
    static TEAM: OnceLock<Option<&'static Team>> = OnceLock::new();
    if threads() < 2 {
        return None;
    }
    *TEAM.get_or_init(|| {
        let team: &'static Team = Box::leak(Box::new(Team {
            task: AtomicU64::new(0),
            shares: (0..threads()).map(|_| Padded(AtomicU64::new(0))).collect(),
            share: AtomicPtr::new(std::ptr::null_mut()),
            done: AtomicUsize::new(0),
            busy: AtomicBool::new(false),
            sleepers: AtomicUsize::new(0),
            lock: Mutex::new(()),
            wake: Condvar::new(),
            panic: Mutex::new(None),
        }));
        for i in 1..threads() {
            let spawned = std::thread::Builder::new()
                .name(format!("seesay-kernel-{i}"))
                .spawn(move || {
                    RANK.with(|r| r.set(i));
                    team.help()
                });
            if spawned.is_err() {
                // Fewer helpers only means less speed: the caller does every unclaimed job.
                break;
            }
        }
        Some(team)
    })
}

impl Team {
    /// Takes the team for one task; false when another thread (or an enclosing task) has it,
    /// and the caller then runs its jobs alone.
    fn enter(&self) -> bool {
        self.busy
            .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_ok()
    }

    /// Publishes a task of `n` jobs, works on it, and returns once every job has finished.
    fn run(&self, n: usize, share: &Share<'_>) {
        let holder: &Share<'_> = share;
        self.done.store(0, Ordering::Relaxed);
        self.share
            .store(&holder as *const &Share<'_> as *mut (), Ordering::Relaxed);
        let (epoch, _, _) = unpack(self.task.load(Ordering::Relaxed));
        let epoch = (epoch + 1) & EPOCH_MASK;
        let t = self.shares.len();
        for (r, word) in self.shares.iter().enumerate() {
            word.0
                .store(pack(epoch, (r + 1) * n / t, r * n / t), Ordering::Relaxed);
        }
        // SeqCst pairs with the helpers' SeqCst count of sleepers: either a helper about to
        // park sees this task, or this thread sees the helper and wakes it. It also publishes
        // the shares above to every thread that reads this word.
        self.task.store(pack(epoch, n, 0), Ordering::SeqCst);
        if self.sleepers.load(Ordering::SeqCst) > 0 {
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.wake.notify_all();
        }
        if let Some(first) = self.claim() {
            self.run_share(first);
        }
        let mut spins = 0u32;
        while self.done.load(Ordering::Acquire) < n {
            spins += 1;
            if spins < 1 << 16 {
                std::hint::spin_loop();
            } else {
                // A helper holding a job was descheduled: let it run.
                std::thread::yield_now();
            }
        }
        // Mark the task finished, so that idle helpers stop looking at it.
        self.task.store(pack(epoch, n, n), Ordering::Release);
        self.share.store(std::ptr::null_mut(), Ordering::Relaxed);
        let panic = self.panic.lock().unwrap_or_else(|e| e.into_inner()).take();
        self.busy.store(false, Ordering::Release);
        if let Some(cause) = panic {
            std::panic::resume_unwind(cause);
        }
    }

    /// Claims a job of the open task: from this thread's own share first, then from the
    /// others'. A share whose epoch is not the task word's belongs to another task (an older
    /// one, or a newer one whose word this thread has not seen yet) and is left alone.
    fn claim(&self) -> Option<usize> {
        let (epoch, n, finished) = unpack(self.task.load(Ordering::Acquire));
        if finished >= n {
            return None;
        }
        let t = self.shares.len();
        let me = RANK.with(|r| r.get()) % t;
        for d in 0..t {
            let share = &self.shares[(me + d) % t].0;
            let mut w = share.load(Ordering::Acquire);
            loop {
                let (e, end, next) = unpack(w);
                if e != epoch || next >= end {
                    break;
                }
                match share.compare_exchange_weak(w, w + 1, Ordering::AcqRel, Ordering::Acquire) {
                    Ok(_) => return Some(next),
                    Err(now) => w = now,
                }
            }
        }
        None
    }

    /// Runs the open task's share from a claimed job on.
    fn run_share(&self, first: usize) {
        // SAFETY: a job was claimed, so the task is unfinished and its caller is still inside
        // `run`, which keeps `share` alive; the claim's acquire ordering makes the pointer the
        // one published with this task.
        let share = unsafe { *(self.share.load(Ordering::Relaxed) as *const &Share<'_>) };
        let ran = share(first);
        // The last touch of this task: from here on its caller may return.
        self.done.fetch_add(ran, Ordering::Release);
    }

    fn record_panic(&self, cause: Box<dyn Any + Send>) {
        let mut slot = self.panic.lock().unwrap_or_else(|e| e.into_inner());
        slot.get_or_insert(cause);
    }

    fn has_open_task(&self, order: Ordering) -> bool {
        let (_, n, next) = unpack(self.task.load(order));
        next < n
    }

    /// A helper's life: work on open tasks, spin a while, park until the next task.
    fn help(&self) {
        loop {
            if let Some(first) = self.claim() {
                self.run_share(first);
                continue;
            }
            let start = Instant::now();
            let mut found = false;
            while !found && start.elapsed() < SPIN {
                for _ in 0..64 {
                    std::hint::spin_loop();
                    if self.has_open_task(Ordering::Relaxed) {
                        found = true;
                        break;
                    }
                }
            }
            if found {
                continue;
            }
            let mut guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.sleepers.fetch_add(1, Ordering::SeqCst);
            while !self.has_open_task(Ordering::SeqCst) {
                guard = self.wake.wait(guard).unwrap_or_else(|e| e.into_inner());
            }
            self.sleepers.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU32;

    #[test]
    fn every_job_runs_once() {
        for n in [0, 1, 2, 3, 17, 1000] {
            let counts: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(0)).collect();
            for_each(n, |i| {
                counts[i].fetch_add(1, Ordering::Relaxed);
            });
            assert!(
                counts.iter().all(|c| c.load(Ordering::Relaxed) == 1),
                "n = {n}"
            );
        }
    }

    /// Jobs of very different lengths in the two halves, so that whichever thread finishes
    /// its share first takes jobs from the other's.
    #[test]
    fn uneven_shares_are_finished_by_whoever_is_free() {
        for slow_half in [0, 1] {
            let n = 64;
            let counts: Vec<AtomicU32> = (0..n).map(|_| AtomicU32::new(0)).collect();
            for_each(n, |i| {
                if (i < n / 2) == (slow_half == 0) {
                    std::thread::sleep(Duration::from_micros(200));
                }
                counts[i].fetch_add(1, Ordering::Relaxed);
            });
            assert!(counts.iter().all(|c| c.load(Ordering::Relaxed) == 1));
        }
    }

    #[test]
    fn chunks_cover_the_slice_once() {
        let mut data = vec![0u32; 1001];
        for _ in 0..50 {
            for_each_chunk_mut(
                &mut data,
                64,
                || 0u32,
                |calls, i, piece| {
                    *calls += 1;
                    for (j, v) in piece.iter_mut().enumerate() {
                        *v += (i * 64 + j) as u32;
                    }
                },
            );
        }
        assert!(data.iter().enumerate().all(|(j, &v)| v == 50 * j as u32));
    }

    /// Many short tasks back to back, so that a helper still finishing one task overlaps
    /// the caller's return and its next task (this once crashed: a helper touched the
    /// caller's frame after its jobs were counted).
    #[test]
    fn back_to_back_tasks_keep_to_their_own_jobs() {
        let total = AtomicU32::new(0);
        for round in 0..20_000u32 {
            let n = 1 + (round % 5) as usize;
            let mine = vec![round; n];
            for_each_init(
                n,
                || mine.len(),
                |len, i| {
                    assert_eq!(*len, n);
                    total.fetch_add(mine[i] - round + 1, Ordering::Relaxed);
                },
            );
        }
        let expected: u32 = (0..20_000u32).map(|r| 1 + r % 5).sum();
        assert_eq!(total.load(Ordering::Relaxed), expected);
    }

    #[test]
    fn nested_tasks_run_inline() {
        let total = AtomicU32::new(0);
        for_each(4, |_| {
            for_each(5, |_| {
                total.fetch_add(1, Ordering::Relaxed);
            });
        });
        assert_eq!(total.load(Ordering::Relaxed), 20);
    }

    #[test]
    fn a_panicking_job_reaches_the_caller_and_the_team_still_works() {
        let caught = catch_unwind(|| {
            for_each(8, |i| {
                if i == 5 {
                    panic!("job five");
                }
            })
        });
        assert!(caught.is_err());
        let total = AtomicU32::new(0);
        for_each(8, |_| {
            total.fetch_add(1, Ordering::Relaxed);
        });
        assert_eq!(total.load(Ordering::Relaxed), 8);
    }
}
