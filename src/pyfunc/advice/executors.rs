//! The recommendation's words about the standard library's executors: what the user's code
//! meets on failure, what an executor lost against parlab's road of its kind, and what it cost
//! a task.

use super::{BOOTSTRAP_ROUNDS, Bounds, PythonRow, Road, Verdict, judge, paired_speedup, seconds};
use crate::pyfunc::code::version;
use crate::span::Span;

/// What the user's code meets on `road` (an executor) of interpreter `python` when FUNCTION
/// raises, never returns, or its worker dies: as CPython behaves (checked on 3.11 to 3.15).
pub(super) fn failures_on(road: Road, python: &str) -> Option<String> {
    let names_pid = version(python).is_some_and(|v| v >= (3, 15));
    Some(match road {
        Road::ExecutorThread => "if the function raises, pool.map raises it at that item; a call \
            that never returns blocks pool.map for ever (a thread cannot be stopped; map's \
            timeout= only stops the waiting)"
            .to_string(),
        Road::ExecutorProcess => format!(
            "if the function raises, pool.map raises it with the worker's traceback attached; a \
             worker that dies (os._exit, a signal, out of memory) breaks the pool: pool.map \
             raises BrokenProcessPool{}, and every task left fails with it; a call that never \
             returns blocks pool.map unless map is given timeout=",
            if names_pid {
                " naming the worker's PID and exit code"
            } else {
                " without saying which worker or why (3.15 names them)"
            }
        ),
        Road::ExecutorInterpreter => "if the function raises, pool.map raises it with the \
            subinterpreter's traceback attached (ExecutionFailed); a value that cannot cross \
            between interpreters raises NotShareableError; a call that never returns blocks \
            pool.map for ever"
            .to_string(),
        _ => return None,
    })
}

/// The items (map mode) a row ran over: the length of its range `0..N`.
fn items_of(row: &PythonRow) -> Option<u64> {
    row.range
        .parse::<Span>()
        .ok()
        .map(|s| s.len())
        .filter(|n| *n > 0)
}

/// What executor `row` lost against parlab's own road of its kind (`own`, at the same worker
/// count), judged on their paired runs: "ProcessPoolExecutor x2 reached 1.52x (...) where
/// parlab's processes x2 reached 1.80x (...): its pickling and queues cost 16% of its time at
/// 40 us an item".
pub(super) fn gap_words(
    row: &PythonRow,
    own: &PythonRow,
    base: &PythonRow,
    map: bool,
) -> Option<String> {
    let class = row.road.executor_class()?;
    let (mine, theirs) = (row.speedup?, own.speedup?);
    let (times, own_times) = (row.times(), own.times());
    if times.len() != own_times.len() || times.is_empty() {
        return None;
    }
    let at = match (map, items_of(base), base.median_s) {
        (true, Some(n), Some(t)) => format!(" at {} an item", seconds(t / n as f64)),
        _ => " at this size".to_string(),
    };
    let what = match row.road {
        Road::ExecutorProcess => "its pickling and queues",
        Road::ExecutorInterpreter => "its futures and the crossing between interpreters",
        _ => "its futures and their queue",
    };
    let ratio = paired_speedup(&times, &own_times, BOOTSTRAP_ROUNDS);
    let lead = format!(
        "{class} x{} reached {} where parlab's {} reached {}",
        row.workers,
        mine.ratio(),
        own.setting(),
        theirs.ratio()
    );
    Some(match judge(&ratio, Bounds::default()) {
        Verdict::Faster => format!(
            "{lead} ({} as fast, paired): {what} cost about {:.0}% of its time{at}",
            ratio.ratio(),
            (1.0 - 1.0 / ratio.value) * 100.0
        ),
        Verdict::Slower => format!("{lead}: the executor ran faster than parlab's road{at}"),
        _ => format!("{lead}: {what} cost nothing the runs can tell{at}"),
    })
}

/// What executor `row` cost a task beyond the function's own work, for a recommendation of one
/// thread: "ThreadPoolExecutor x2 cost about 14.0 us a task against the function's own 0.1 us
/// (20000 tasks of 1 item)". Its time at the parallelism its kind reached (`own`, parlab's road
/// of that kind: its speedup, at least 1, at most the workers; 1 without it), less the
/// sequential time, over its tasks.
pub(super) fn overhead_words(
    row: &PythonRow,
    own: Option<&PythonRow>,
    base: &PythonRow,
    map: bool,
) -> Option<String> {
    let class = row.road.executor_class()?;
    let (t, t1) = (row.median_s?, base.median_s?);
    let n = if map { items_of(base)? } else { return None };
    let per_task = match row.road {
        Road::ExecutorProcess => row.chunksize.unwrap_or(1).max(1),
        _ => 1,
    };
    let tasks = n.div_ceil(per_task);
    let parallel = own
        .and_then(|o| o.speedup)
        .map_or(1.0, |s| s.value.clamp(1.0, row.workers as f64));
    let extra = (t * parallel - t1).max(0.0) / tasks as f64;
    Some(format!(
        "{class} x{} cost about {} a task against the function's own {} ({tasks} tasks of \
         {per_task} item{})",
        row.workers,
        seconds(extra),
        seconds(t1 / tasks as f64),
        if per_task == 1 { "" } else { "s" }
    ))
}
