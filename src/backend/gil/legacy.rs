//! `gil-legacy`: Python 2's GIL (`Python/ceval.c` of Python 2.x).
//!
//! A plain lock (a mutex-protected flag and a condition variable). Every `check_interval` ticks
//! (default 100) the running thread releases it, which wakes one waiting thread, and
//! immediately asks for it again. Nothing hands the lock over: on a multicore machine the
//! releasing thread is already running and usually wins it back before the woken thread is
//! scheduled, so the others are woken again and again for nothing ("the GIL battle" that made
//! two CPU-bound threads slower than one in Beazley's measurements).

use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use super::{Ledger, Lock, Record, Release};
use crate::backend::Policy;

/// Python 2's default `sys.setcheckinterval`.
pub const DEFAULT_CHECK_INTERVAL: u32 = 100;

/// The `gil-legacy` backend.
#[derive(Debug, Clone, Copy)]
pub struct GilLegacy {
    /// Ticks (kernel check points) between a release and re-acquire.
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

/// The old GIL.
#[derive(Debug)]
pub struct OldGil {
    check_interval: u32,
    locked: Mutex<bool>,
    cond: Condvar,
    holders: AtomicUsize,
    ledger: Mutex<Ledger>,
}

impl OldGil {
    /// A free lock released every `check_interval` ticks (at least 1).
    pub fn new(check_interval: u32) -> Self {
        OldGil {
            check_interval: check_interval.max(1),
            locked: Mutex::new(false),
            cond: Condvar::new(),
            holders: AtomicUsize::new(0),
            ledger: Mutex::new(Ledger::default()),
        }
    }
}

impl Lock for OldGil {
    const NAME: &'static str = "gil-legacy";
    /// One tick about every 30 ns, as long as a bytecode of Python 2: with the default
    /// check interval the lock is released every 3 µs or so, as often as Python 2 released it.
    const SCALE: u64 = 1;

    fn acquire(&self, _t: usize, rec: &mut Record) {
        let asked = Instant::now();
        let mut locked = self.locked.lock();
        while *locked {
            self.cond.wait(&mut locked);
        }
        *locked = true;
        self.holders.fetch_add(1, Ordering::AcqRel);
        drop(locked);
        rec.acquired(asked, &self.ledger);
    }

    fn release(&self, _t: usize, rec: &mut Record, why: Release) {
        rec.releasing(why, &self.ledger);
        self.holders.fetch_sub(1, Ordering::AcqRel);
        *self.locked.lock() = false;
        self.cond.notify_one();
    }

    #[inline]
    fn must_release(&self, ticks: &mut u32) -> bool {
        *ticks += 1;
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
