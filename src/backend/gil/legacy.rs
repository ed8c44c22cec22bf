//! `gil-legacy`: Python 2's GIL (`Python/ceval.c` and `Python/thread_pthread.h` of Python 2.7).
//!
//! Python 2's lock is a POSIX semaphore: `sem_post` adds one to its value and, when any thread
//! is registered as waiting, wakes one with a futex wake; `sem_wait` takes the value with an
//! atomic compare-and-swap if it is free, else registers as a waiter and sleeps until woken,
//! then tries again. Every `check_interval` ticks (default 100; a tick is one bytecode, some
//! 15 ns of the seed's loop) the running thread posts and at once waits again. Nothing hands
//! the lock over: the releaser's compare-and-swap comes as soon as its wake call returns, while
//! a sleeping waiter needs microseconds to be scheduled, so the releaser usually wins it back
//! and the waiter, woken for nothing, sleeps again. A waiter wins when it is already awake and
//! retrying during the holder's wake call (a CPU free: turns of microseconds), or when the
//! holder is preempted between its post and its wait (CPUs busy: turns of a scheduler tick).
//! The holder pays for every wake (a system call per check interval while anyone waits), which
//! is what made two CPU-bound threads slower than one.
//!
//! The model is that semaphore: an atomic word for the value, a count of registered waiters,
//! and on Linux the futex system calls themselves (a wake on every post while a waiter is
//! registered, asleep or not, as glibc makes it). The kernels' check points come every
//! [`PY2_TICKS_PER_CHECK_POINT`] ticks' worth of work, and each counts as that many ticks, so
//! the lock is released as often in time as Python 2 released it.

use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::time::Instant;

use parking_lot::Mutex;

use super::{Ledger, Lock, Record, Release};
use crate::backend::Policy;

/// Python 2's default `sys.setcheckinterval`.
pub const DEFAULT_CHECK_INTERVAL: u32 = 100;

/// Python 2 ticks per kernel check point. A check point comes every 256 indices of `count`,
/// about 0.17 µs on this project's machine (0.65 ns an index). CPython 2.7 runs the seed's loop
/// at about 31 ns an index and ticks twice an index (before `STORE_FAST` after `INPLACE_ADD`'s
/// `continue`, and before `FOR_ITER` after `JUMP_ABSOLUTE`'s; the loads and stores, and the
/// `STORE_FAST` that `FOR_ITER` predicts, skip the tick), about 15.5 ns a tick: 11 ticks per
/// check point. With the default interval the lock is released every 10 check points, about
/// every 1.7 µs, where Python 2 released it every 1.55 µs.
pub const PY2_TICKS_PER_CHECK_POINT: u32 = 11;

/// The `gil-legacy` backend.
#[derive(Debug, Clone, Copy)]
pub struct GilLegacy {
    /// Python 2 ticks (bytecodes) between a release and re-acquire, as `sys.setcheckinterval`.
    pub check_interval: u32,
    /// Timeouts and retries.
    pub policy: Policy,
}

impl Default for GilLegacy {
    fn default() -> Self {
        GilLegacy {
            check_interval: DEFAULT_CHECK_INTERVAL,
            policy: Policy::default(),
        }
    }
}

super::gil_backend!(GilLegacy, |s| OldGil::new(s.check_interval));

/// The old GIL: Python 2's semaphore.
#[derive(Debug)]
pub struct OldGil {
    check_interval: u32,
    /// The semaphore's value, inverted: 1 while somebody holds the lock, 0 when free.
    locked: AtomicU32,
    /// Threads registered as waiting (glibc's `nwaiters`): a release wakes one while any are.
    waiters: AtomicUsize,
    holders: AtomicUsize,
    ledger: Mutex<Ledger>,
}

impl OldGil {
    /// A free lock released every `check_interval` ticks (at least 1).
    pub fn new(check_interval: u32) -> Self {
        OldGil {
            check_interval: check_interval.max(1),
            locked: AtomicU32::new(0),
            waiters: AtomicUsize::new(0),
            holders: AtomicUsize::new(0),
            ledger: Mutex::new(Ledger::default()),
        }
    }

    /// `sem_trywait`: takes the lock if it is free.
    fn try_take(&self) -> bool {
        self.locked
            .compare_exchange(0, 1, Ordering::SeqCst, Ordering::Relaxed)
            .is_ok()
    }

    /// `sem_wait`: the fast path, else register as a waiter and sleep until woken, as often as
    /// it takes.
    fn take(&self) {
        if self.try_take() {
            return;
        }
        self.waiters.fetch_add(1, Ordering::SeqCst);
        while !self.try_take() {
            futex::wait_while(&self.locked, 1);
        }
        self.waiters.fetch_sub(1, Ordering::SeqCst);
    }

    /// `sem_post`: frees the lock and, while any thread is registered as waiting, wakes one to
    /// race for it: a system call whether or not that thread is asleep at the time, as glibc
    /// makes it, which keeps the lock free for as long as the call takes.
    fn post(&self) {
        self.locked.store(0, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) > 0 {
            futex::wake_one(&self.locked);
        }
    }
}

/// The futex under the semaphore: Linux's system call, as glibc uses it; elsewhere
/// `parking_lot_core`'s queue, whose park re-checks the word under its lock as `futex_wait`
/// does, so that no wake-up is lost either way.
mod futex {
    use std::sync::atomic::AtomicU32;

    /// Sleeps while `word` holds `value` (or until woken, or spuriously).
    #[cfg(target_os = "linux")]
    pub fn wait_while(word: &AtomicU32, value: u32) {
        use nix::libc;
        // SAFETY: FUTEX_WAIT reads the aligned u32 behind `word`, which outlives the call, and
        // writes nothing; a null timeout means no timeout. Every outcome (woken, EAGAIN when
        // the word has changed, EINTR) is followed by the caller's re-check.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAIT | libc::FUTEX_PRIVATE_FLAG,
                value,
                std::ptr::null::<libc::timespec>(),
            );
        }
    }

    /// Wakes one thread sleeping on `word`, if any.
    #[cfg(target_os = "linux")]
    pub fn wake_one(word: &AtomicU32) {
        use nix::libc;
        // SAFETY: FUTEX_WAKE only uses the address of `word` as a key; it reads and writes no
        // memory.
        unsafe {
            libc::syscall(
                libc::SYS_futex,
                word.as_ptr(),
                libc::FUTEX_WAKE | libc::FUTEX_PRIVATE_FLAG,
                1,
            );
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn wait_while(word: &AtomicU32, value: u32) {
        // SAFETY: the closures only read an atomic and neither panic nor call into
        // parking_lot; the key is the word's address, which outlives the park.
        unsafe {
            parking_lot_core::park(
                word.as_ptr() as usize,
                || word.load(std::sync::atomic::Ordering::SeqCst) == value,
                || {},
                |_, _| {},
                parking_lot_core::DEFAULT_PARK_TOKEN,
                None,
            );
        }
    }

    #[cfg(not(target_os = "linux"))]
    pub fn wake_one(word: &AtomicU32) {
        // SAFETY: the callback does nothing; the key is the word's address.
        unsafe {
            parking_lot_core::unpark_one(word.as_ptr() as usize, |_| {
                parking_lot_core::DEFAULT_UNPARK_TOKEN
            });
        }
    }
}

impl Lock for OldGil {
    const NAME: &'static str = "gil-legacy";
    /// The finest spacing the kernels have (one check point every 256 indices of `count`);
    /// each counts as [`PY2_TICKS_PER_CHECK_POINT`] ticks.
    const SCALE: u64 = 1;

    fn acquire(&self, _t: usize, rec: &mut Record) {
        let asked = Instant::now();
        self.take();
        self.holders.fetch_add(1, Ordering::AcqRel);
        rec.acquired(asked, &self.ledger);
    }

    fn release(&self, _t: usize, rec: &mut Record, why: Release) {
        rec.releasing(why, &self.ledger);
        self.holders.fetch_sub(1, Ordering::AcqRel);
        self.post();
    }

    /// Python 2's release and re-take. With no waiter registered the post wakes nobody and the
    /// releaser takes its lock straight back unless a thread arriving that instant beats it:
    /// the same turn goes on, and the ledger is spared two clock reads a microsecond (which,
    /// with the ledger's bookkeeping, would slow one thread by a quarter, where Python 2's
    /// uncontended semaphore costs it a few percent). Otherwise the full release and take,
    /// logged.
    fn check_point(&self, t: usize, rec: &mut Record) {
        if self.waiters.load(Ordering::SeqCst) == 0 {
            // The ledger stays locked while the lock is free: a newcomer that takes it logs
            // its acquisition (and reads its clock) only after this release is logged, so the
            // ledger never sees two holders at once.
            let mut ledger = self.ledger.lock();
            self.holders.fetch_sub(1, Ordering::AcqRel);
            self.post();
            if self.try_take() {
                self.holders.fetch_add(1, Ordering::AcqRel);
                rec.forced += 1;
                rec.retakes += 1;
                return;
            }
            // Beaten by a newcomer: log the release before the newcomer can log its turn.
            rec.releasing_in(Release::CheckPoint, &mut ledger);
            drop(ledger);
            self.acquire(t, rec);
            return;
        }
        self.release(t, rec, Release::CheckPoint);
        self.acquire(t, rec);
    }

    #[inline]
    fn must_release(&self, ticks: &mut u32) -> bool {
        *ticks += PY2_TICKS_PER_CHECK_POINT;
        if *ticks >= self.check_interval {
            *ticks = 0;
            true
        } else {
            false
        }
    }

    fn holders(&self) -> usize {
        self.holders.load(Ordering::Relaxed)
    }

    fn ledger(&self) -> &Mutex<Ledger> {
        &self.ledger
    }
}

#[cfg(test)]
mod tests;
