//! `gil`: CPython's "new GIL" (3.2 and later), as in `Python/ceval_gil.h` of CPython 3.11.
//!
//! State: `locked`, `last_holder`, `switch_number`, the switch `interval`, a mutex and
//! condition variable, and for FORCE_SWITCHING (always on) a second pair, `switch_mutex` and
//! `switch_cond`. The drop request is interpreter-wide, as in 3.2-3.12: one flag in the eval
//! breaker that the holder polls at every check point.
//!
//! - `take_gil`: while locked, wait on `cond` for at most `interval`; if the wait timed out,
//!   the lock is still held and `switch_number` did not move meanwhile, set the drop request.
//!   Then, under `switch_mutex`: `locked = true`; if `last_holder` is another thread, make this
//!   thread the last holder and bump `switch_number`; signal `switch_cond`. Finally clear the
//!   drop request.
//! - `drop_gil`: `last_holder = self`; `locked = false` and signal `cond` (one waiter, in no
//!   particular order). If a drop request is pending (forced switching): under `switch_mutex`,
//!   if this thread is still the last holder, clear the request and wait on `switch_cond` until
//!   another thread has taken the lock, so the releasing thread cannot win it straight back.
//! - At a check point with the drop request set: `drop_gil` then `take_gil`.
//! - Around a blocking call: `drop_gil`, the call, `take_gil`. A thread back from I/O may wait a
//!   whole interval before it can even ask for the lock: the convoy effect, which appears here
//!   by itself.

use parking_lot::{Condvar, Mutex};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use super::{Ledger, Lock, Record, Release};
use crate::backend::Policy;

/// CPython's default switch interval, `sys.getswitchinterval()`.
pub const DEFAULT_SWITCH_INTERVAL: Duration = Duration::from_millis(5);

/// The `gil` backend.
#[derive(Debug, Clone, Copy)]
pub struct Gil {
    /// The switch interval (`sys.setswitchinterval`).
    pub switch_interval: Duration,
    /// Timeouts and retries.
    pub policy: Policy,
}

impl Default for Gil {
    fn default() -> Self {
        Gil {
            switch_interval: DEFAULT_SWITCH_INTERVAL,
            policy: Policy::default(),
        }
    }
}

super::gil_backend!(Gil, |s| NewGil::new(s.switch_interval));

/// The lock's shared state, guarded by `mutex`.
#[derive(Debug)]
struct State {
    locked: bool,
    switch_number: u64,
}

/// The new GIL.
#[derive(Debug)]
pub struct NewGil {
    interval: Duration,
    mutex: Mutex<State>,
    cond: Condvar,
    switch_mutex: Mutex<()>,
    switch_cond: Condvar,
    /// Thread index + 1 of the last holder; 0 before anyone held it.
    last_holder: AtomicUsize,
    /// The eval breaker's GIL drop request.
    drop_request: AtomicBool,
    /// Threads that believe they hold the lock: the invariant is that this is never above 1.
    holders: AtomicUsize,
    ledger: Mutex<Ledger>,
}

impl NewGil {
    /// A free lock with the given switch interval.
    pub fn new(interval: Duration) -> Self {
        NewGil {
            interval: interval.max(Duration::from_micros(1)),
            mutex: Mutex::new(State {
                locked: false,
                switch_number: 0,
            }),
            cond: Condvar::new(),
            switch_mutex: Mutex::new(()),
            switch_cond: Condvar::new(),
            last_holder: AtomicUsize::new(0),
            drop_request: AtomicBool::new(false),
            holders: AtomicUsize::new(0),
            ledger: Mutex::new(Ledger::default()),
        }
    }
}

impl Lock for NewGil {
    const NAME: &'static str = "gil";
    /// A check point every 0.5 µs of `count`: CPython 3 checks its eval breaker more often,
    /// but it only acts on a drop request, which comes at most every switch interval (5 ms), so
    /// the spacing changes nothing but the cost of the checks.
    const SCALE: u64 = 16;

    fn acquire(&self, t: usize, rec: &mut Record) {
        let asked = Instant::now();
        let me = t + 1;
        let mut st = self.mutex.lock();
        while st.locked {
            let saved = st.switch_number;
            let wait = self.cond.wait_for(&mut st, self.interval);
            // Timed out, still locked, and no hand-off meanwhile: ask the holder to drop it.
            if wait.timed_out() && st.locked && st.switch_number == saved {
                self.drop_request.store(true, Ordering::Relaxed);
                rec.requests += 1;
            }
        }
        {
            let _switch = self.switch_mutex.lock();
            st.locked = true;
            if self.last_holder.load(Ordering::Relaxed) != me {
                self.last_holder.store(me, Ordering::Relaxed);
                st.switch_number += 1;
            }
            self.switch_cond.notify_one();
        }
        self.drop_request.store(false, Ordering::Relaxed);
        self.holders.fetch_add(1, Ordering::AcqRel);
        drop(st);
        rec.acquired(asked, &self.ledger);
    }

    fn release(&self, t: usize, rec: &mut Record, why: Release) {
        let me = t + 1;
        rec.releasing(why, &self.ledger);
        self.holders.fetch_sub(1, Ordering::AcqRel);
        self.last_holder.store(me, Ordering::Relaxed);
        {
            let mut st = self.mutex.lock();
            st.locked = false;
            self.cond.notify_one();
        }
        // FORCE_SWITCHING: if another thread asked for the lock, do not race it for the lock
        // just released; wait until it has been taken.
        if self.drop_request.load(Ordering::Relaxed) {
            let mut switch = self.switch_mutex.lock();
            if self.last_holder.load(Ordering::Relaxed) == me {
                self.drop_request.store(false, Ordering::Relaxed);
                self.switch_cond.wait_while(&mut switch, |_| {
                    self.last_holder.load(Ordering::Relaxed) == me
                });
            }
        }
    }

    #[inline]
    fn must_release(&self, _ticks: &mut u32) -> bool {
        self.drop_request.load(Ordering::Relaxed)
    }

    fn holders(&self) -> usize {
        self.holders.load(Ordering::Relaxed)
    }

    fn ledger(&self) -> &Mutex<Ledger> {
        &self.ledger
    }
}
