//! The semaphore's deterministic properties: who may take it, how often it is released, and
//! that a release wakes a sleeping waiter.

use std::sync::atomic::Ordering;
use std::thread;
use std::time::Duration;

use super::*;

/// The check points (1-based) among the first `n` at which a lock with `interval` releases.
fn releases(interval: u32, n: usize) -> Vec<usize> {
    let gil = OldGil::new(interval);
    let mut ticks = 0;
    (1..=n).filter(|_| gil.must_release(&mut ticks)).collect()
}

#[test]
fn the_default_interval_releases_every_ten_check_points() {
    // 100 ticks at 11 a check point: the 10th check point reaches 110, and the count restarts.
    assert_eq!(PY2_TICKS_PER_CHECK_POINT, 11);
    assert_eq!(releases(DEFAULT_CHECK_INTERVAL, 30), vec![10, 20, 30]);
}

#[test]
fn an_interval_of_one_check_point_or_less_releases_at_every_one() {
    for interval in [0, 1, 10, PY2_TICKS_PER_CHECK_POINT] {
        assert_eq!(releases(interval, 5), vec![1, 2, 3, 4, 5], "{interval}");
    }
    // 1000 ticks: every 91st check point (91 x 11 = 1001).
    assert_eq!(releases(1000, 200), vec![91, 182]);
}

#[test]
fn a_taken_lock_cannot_be_taken_again_until_posted() {
    let gil = OldGil::new(100);
    assert!(gil.try_take());
    assert!(!gil.try_take());
    gil.post();
    assert!(gil.try_take());
}

#[test]
fn the_releasing_thread_takes_its_lock_straight_back_with_nobody_waiting() {
    let gil = OldGil::new(100);
    gil.take();
    gil.post();
    assert!(
        gil.try_take(),
        "a post then a take by the same thread must succeed"
    );
    assert_eq!(gil.waiters.load(Ordering::SeqCst), 0);
}

#[test]
fn a_waiter_registers_sleeps_and_is_woken_by_a_post() {
    let gil = OldGil::new(100);
    gil.take();
    thread::scope(|s| {
        let waiter = s.spawn(|| gil.take());
        // The waiter registers before it sleeps: wait until it has.
        while gil.waiters.load(Ordering::SeqCst) == 0 {
            thread::sleep(Duration::from_millis(1));
        }
        assert!(!waiter.is_finished());
        gil.post();
        waiter.join().unwrap();
    });
    // The waiter holds it now and has left the waiters' count.
    assert!(!gil.try_take());
    assert_eq!(gil.waiters.load(Ordering::SeqCst), 0);
}
