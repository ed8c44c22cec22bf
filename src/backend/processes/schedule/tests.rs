//! The scheduling loop driven by scripted workers: ordering, windows, retries, timeouts and
//! failures, with no process started.

use std::cell::RefCell;
use std::os::unix::process::ExitStatusExt;
use std::rc::Rc;
use std::sync::Mutex;

use super::*;
use crate::kernels::Kernel;
use crate::kernels::Total;
use crate::kernels::collatz::Collatz;
use crate::span::Span;

/// What a scripted worker does on a part.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Act {
    /// Answers with a `Failed` frame for a panic.
    Panic,
    /// Dies of SIGKILL before answering.
    Die,
    /// Never answers.
    Hang,
    /// Answers for the wrong part.
    Wrong,
}

/// What every scripted worker of a test did, for the test to check.
#[derive(Debug, Default)]
struct Log {
    /// Workers started, replacements included.
    started: u32,
    /// The most parts a worker held at once (sent, not yet answered).
    most_held: usize,
    /// PIDs of the workers killed.
    killed: Vec<u32>,
    /// The shortest wait for answers the loop asked for.
    shortest_wait: Option<Duration>,
}

/// A worker that answers every part with a total that marks the part (see [`total`]),
/// unless `script` says otherwise for it.
struct Fake {
    pid: u32,
    queued: Vec<Part>,
    held: VecDeque<Part>,
    script: Option<(u64, Act)>,
    dead: bool,
    hung: bool,
    log: Rc<RefCell<Log>>,
}

impl Fake {
    fn new(log: &Rc<RefCell<Log>>, script: Option<(u64, Act)>) -> Fake {
        let mut l = log.borrow_mut();
        l.started += 1;
        Fake {
            pid: 1000 + l.started,
            queued: Vec::new(),
            held: VecDeque::new(),
            script,
            dead: false,
            hung: false,
            log: Rc::clone(log),
        }
    }
}

/// A part's total, which makes the combined total show the order of combination: the
/// longest stopping time ties everywhere, so the first part combined names its start.
fn total(part: Part) -> Total {
    Total::Collatz(Collatz {
        steps: 1,
        max_steps: 7,
        argmax: Some(part.start),
    })
}

impl Conn for Fake {
    fn pid(&self) -> u32 {
        self.pid
    }

    fn send(&mut self, part: Part) {
        self.queued.push(part);
    }

    fn flush(&mut self) -> std::result::Result<(), Broken> {
        self.held.extend(self.queued.drain(..));
        let mut log = self.log.borrow_mut();
        log.most_held = log.most_held.max(self.held.len());
        Ok(())
    }

    fn receive(&mut self, replies: &mut Vec<Frame>) -> std::result::Result<(), Broken> {
        if self.dead {
            return Err(WorkerCause::signaled(9).into());
        }
        while let Some(&part) = self.held.front() {
            match self.script.filter(|&(at, _)| at == part.index).map(|s| s.1) {
                None => replies.push(Frame::Done {
                    index: part.index,
                    total: total(part),
                }),
                Some(Act::Panic) => replies.push(Frame::Failed {
                    index: part.index,
                    panic: true,
                    message: "boom".into(),
                }),
                Some(Act::Wrong) => replies.push(Frame::Done {
                    index: part.index + 1,
                    total: total(part),
                }),
                Some(Act::Die) => {
                    self.dead = true;
                    return Ok(());
                }
                Some(Act::Hang) => {
                    self.hung = true;
                    return Ok(());
                }
            }
            self.held.pop_front();
        }
        Ok(())
    }

    fn kill(&mut self) {
        if !self.dead || !self.hung {
            self.log.borrow_mut().killed.push(self.pid);
        }
        self.dead = true;
        self.hung = true;
    }

    fn close(&mut self) -> std::result::Result<(), Broken> {
        Ok(())
    }

    fn wait_exit(&mut self) -> Result<ExitStatus> {
        Ok(ExitStatus::from_raw(0))
    }

    /// The workers with something to say, last first, so that answers arrive out of
    /// part order; when none has, sleeps through `wait` as `poll` would.
    fn wait_readable(conns: &[Self], wait: Duration) -> Result<Vec<usize>> {
        let ready: Vec<usize> = (0..conns.len())
            .rev()
            .filter(|&i| !conns[i].hung && (conns[i].dead || !conns[i].held.is_empty()))
            .collect();
        if let Some(first) = conns.first() {
            let mut log = first.log.borrow_mut();
            log.shortest_wait = Some(log.shortest_wait.map_or(wait, |w| w.min(wait)));
        }
        if ready.is_empty() {
            std::thread::sleep(wait);
        }
        Ok(ready)
    }
}

/// The parts the observer saw done, in the order they were done, and the retries.
#[derive(Default)]
struct Seen {
    done: Mutex<Vec<(u64, usize)>>,
    retried: Mutex<Vec<(u64, u32, String)>>,
}

impl Observer for Seen {
    fn part_done(&self, part: Part, worker: usize, _: u64, _: u64) {
        self.done.lock().unwrap().push((part.index, worker));
    }

    fn part_retried(&self, part: Part, attempt: u32, cause: &Error) {
        self.retried
            .lock()
            .unwrap()
            .push((part.index, attempt, cause.to_string()));
    }
}

/// Runs `plan` on `workers` scripted workers, worker `w` following `script(w)`;
/// replacements follow no script.
fn run(
    plan: Plan,
    workers: usize,
    policy: Policy,
    script: impl Fn(usize) -> Option<(u64, Act)>,
) -> (Result<Total>, Seen, Log) {
    run_with(plan, workers, policy, script, None)
}

/// [`run`], with replacements following `again`.
fn run_with(
    plan: Plan,
    workers: usize,
    policy: Policy,
    script: impl Fn(usize) -> Option<(u64, Act)>,
    again: Option<(u64, Act)>,
) -> (Result<Total>, Seen, Log) {
    let log = Rc::new(RefCell::new(Log::default()));
    let conns = (0..workers).map(|w| Fake::new(&log, script(w))).collect();
    let mut schedule = Schedule::new(conns, policy, |_| Ok(Fake::new(&log, again)));
    let seen = Seen::default();
    let mut results = Combiner::new(&Kernel::Collatz, plan.len());
    let outcome = schedule
        .drive(&plan, &mut results, &seen)
        .and_then(|()| schedule.shut_down())
        .map(|()| results.finish());
    drop(schedule);
    let log = Rc::try_unwrap(log).unwrap().into_inner();
    (outcome, seen, log)
}

fn chunks(len: u64, size: u64) -> Plan {
    Plan::chunks(Span::new(0, len).unwrap(), size)
}

/// What a clean run of `plan` gives: every part once, combined in part order.
fn expected(plan: &Plan) -> Total {
    Total::Collatz(Collatz {
        steps: u128::from(plan.len()),
        max_steps: 7,
        argmax: Some(plan.range().start),
    })
}

#[test]
fn parts_are_combined_in_part_order_whatever_order_they_finish_in() {
    let plan = Plan::equal(Span::new(100, 400).unwrap(), 3);
    let (total, seen, _) = run(plan, 3, Policy::default(), |_| None);
    assert_eq!(total.unwrap(), expected(&plan));
    // Worker k held part k, and the last worker answered first.
    assert_eq!(seen.done.into_inner().unwrap(), [(2, 2), (1, 1), (0, 0)]);
}

#[test]
fn chunks_go_out_in_windows_of_at_most_max_window() {
    let plan = chunks(10_000, 1);
    let (total, seen, log) = run(plan, 2, Policy::default(), |_| None);
    assert_eq!(total.unwrap(), expected(&plan));
    assert_eq!(log.most_held, MAX_WINDOW as usize);
    let done = seen.done.into_inner().unwrap();
    assert_eq!(done.len(), 10_000);
    // Both workers took chunks, and chunks went out in order to each.
    for w in 0..2 {
        let mine: Vec<u64> = done.iter().filter(|d| d.1 == w).map(|d| d.0).collect();
        assert!(mine.len() > 1000, "worker {w} did {}", mine.len());
        assert!(mine.windows(2).all(|p| p[0] < p[1]), "worker {w}");
    }
}

#[test]
fn the_window_shrinks_so_that_a_short_job_is_shared() {
    // 8 chunks on 4 workers: a window of 64 would give them all to the first worker.
    let plan = chunks(8, 1);
    let (total, seen, log) = run(plan, 4, Policy::default(), |_| None);
    assert_eq!(total.unwrap(), expected(&plan));
    assert_eq!(log.most_held, 1);
    let mut workers: Vec<usize> = seen
        .done
        .into_inner()
        .unwrap()
        .iter()
        .map(|d| d.1)
        .collect();
    workers.sort();
    workers.dedup();
    assert_eq!(workers, [0, 1, 2, 3]);
}

#[test]
fn a_failed_part_runs_again_on_a_fresh_worker_and_the_answer_is_exact() {
    for plan in [Plan::equal(Span::new(0, 90).unwrap(), 3), chunks(90, 10)] {
        let policy = Policy {
            timeout: None,
            retries: 1,
        };
        let (total, seen, log) = run(plan, 3, policy, |w| (w == 1).then_some((1, Act::Panic)));
        assert_eq!(total.unwrap(), expected(&plan), "{plan:?}");
        let retried = seen.retried.into_inner().unwrap();
        assert_eq!(retried.len(), 1, "{retried:?}");
        assert_eq!((retried[0].0, retried[0].1), (1, 1));
        assert!(retried[0].2.contains("panicked: boom"), "{}", retried[0].2);
        // The failed worker was killed and one replacement started.
        assert_eq!(log.started, 4);
        assert_eq!(log.killed, [1002]);
    }
}

#[test]
fn without_retries_the_first_failure_ends_the_run_with_its_part() {
    let plan = Plan::equal(Span::new(0, 90).unwrap(), 3);
    let (total, seen, log) = run(plan, 3, Policy::default(), |w| {
        (w == 1).then_some((1, Act::Panic))
    });
    let err = total.unwrap_err().to_string();
    assert!(
        err.contains("worker 1 (pid 1002) failed on part 1 (30..60)"),
        "{err}"
    );
    assert!(err.contains("panicked: boom"), "{err}");
    assert!(seen.retried.into_inner().unwrap().is_empty());
    assert_eq!(log.started, 3);
}

#[test]
fn a_worker_that_dies_mid_part_is_reported_with_that_part() {
    // Chunks 0..3 go to worker 0 first; it answers chunk 0 and 1, then dies on 2.
    let plan = chunks(300, 10);
    let (total, seen, _) = run(plan, 2, Policy::default(), |w| {
        (w == 0).then_some((2, Act::Die))
    });
    let err = total.unwrap_err().to_string();
    assert!(
        err.contains("worker 0 (pid 1001) failed on part 2 (20..30)"),
        "{err}"
    );
    assert!(err.contains("killed by signal 9 (SIGKILL)"), "{err}");
    let done = seen.done.into_inner().unwrap();
    assert!(done.contains(&(0, 0)) && done.contains(&(1, 0)), "{done:?}");
    assert!(!done.iter().any(|d| d.0 == 2), "{done:?}");
}

#[test]
fn a_part_that_fails_every_retry_fails_the_run() {
    let plan = Plan::equal(Span::new(0, 20).unwrap(), 2);
    let policy = Policy {
        timeout: None,
        retries: 2,
    };
    let die = Some((0, Act::Die));
    let (total, seen, log) = run_with(plan, 2, policy, |_| die, die);
    let err = total.unwrap_err();
    assert!(
        err.to_string().contains("failed on part 0 (0..10)"),
        "{err}"
    );
    // Two workers, then a replacement for each retry of part 0, each dying on it again.
    assert_eq!(log.started, 4);
    let attempts: Vec<u32> = seen
        .retried
        .into_inner()
        .unwrap()
        .iter()
        .map(|r| r.1)
        .collect();
    assert_eq!(attempts, [1, 2]);
}

#[test]
fn a_hung_part_times_out_and_its_retry_succeeds() {
    let plan = chunks(40, 10);
    let policy = Policy {
        timeout: Some(Duration::from_millis(30)),
        retries: 1,
    };
    let (total, seen, log) = run(plan, 2, policy, |w| (w == 0).then_some((0, Act::Hang)));
    assert_eq!(total.unwrap(), expected(&plan));
    let retried = seen.retried.into_inner().unwrap();
    assert_eq!(retried.len(), 1);
    assert!(
        retried[0]
            .2
            .contains("did not finish within the timeout of 30ms"),
        "{}",
        retried[0].2
    );
    assert_eq!(log.killed, [1001]);
    // The loop slept until the part's deadline, not through a whole tick.
    let shortest = log.shortest_wait.unwrap();
    assert!(shortest <= Duration::from_millis(30), "{shortest:?}");
}

#[test]
fn an_answer_for_a_part_the_worker_does_not_hold_is_a_protocol_error() {
    let plan = Plan::equal(Span::new(0, 20).unwrap(), 2);
    let (total, _, log) = run(plan, 2, Policy::default(), |w| {
        (w == 0).then_some((0, Act::Wrong))
    });
    let err = total.unwrap_err().to_string();
    assert!(
        err.contains("sent an unexpected Done frame; expected the answer to part 0"),
        "{err}"
    );
    assert_eq!(log.killed, [1001]);
}
