//! Rounds on fake runs: the order, the pairing, the ceiling, a wrong answer, a row that stops.

use super::*;
use crate::backend::BackendKind;
use crate::stats::Side;

fn run(wall_s: f64) -> RowRun {
    RowRun {
        wall_s,
        total: 7,
        gil: None,
        note: None,
        cpu_s: None,
    }
}

fn threads() -> Vec<(Who, Variant)> {
    let who = Who::Parlab(BackendKind::Threads);
    [1, 2, 4]
        .map(|n| (who.clone(), Variant::Threads(n)))
        .to_vec()
}

/// The rows' figures from [`measure`], without a probe.
fn measure_rows(
    rows: &[(Who, Variant)],
    rounds: Rounds,
    run: &mut dyn FnMut(usize, usize) -> Result<Option<RowRun>>,
) -> Result<Vec<Option<MeasuredRow>>> {
    measure(rows, rounds, None, run).map(|m| m.0)
}

/// A row's spread from its per-round `[walls, cpus]`, its base row's, and each round's
/// ceilings, as the engine pairs them.
fn spread_of(
    [walls, cpus]: [&[Option<f64>]; 2],
    [base, base_cpus]: [&[Option<f64>]; 2],
    ceilings: &[Vec<(usize, f64)>],
    workers: usize,
) -> Option<Spread> {
    let at = |xs: &[Option<f64>], r: usize| xs.get(r).copied().flatten();
    let samples: Vec<Sample> = (0..walls.len())
        .filter_map(|r| {
            Some(Sample {
                wall_s: at(walls, r)?,
                cpu_s: at(cpus, r),
                baseline_s: at(base, r),
                baseline_cpu_s: at(base_cpus, r),
                ceiling: ceilings
                    .get(r)
                    .and_then(|c| c.iter().find(|c| c.0 == workers && workers > 1))
                    .map(|c| c.1),
            })
        })
        .collect();
    spread(&samples, false, None)
}

const FIXED: Rounds = Rounds {
    least: 4,
    budget: Duration::ZERO,
    most: 4,
};

#[test]
fn rounds_run_every_row_forwards_then_backwards() {
    let mut seen = Vec::new();
    let out = measure_rows(&threads(), FIXED, &mut |i, r| {
        seen.push((r, i));
        Ok(Some(run(1.0)))
    })
    .unwrap();
    let order: Vec<usize> = seen.iter().map(|s| s.1).collect();
    assert_eq!(order, [0, 1, 2, 2, 1, 0, 0, 1, 2, 2, 1, 0]);
    assert!(out.iter().all(|m| m.as_ref().unwrap().spread.runs == 4));
}

#[test]
fn a_bimodal_machine_cancels_within_each_round() {
    // Every other round runs at half speed, for every row alike: 2 threads are 1.8x faster in
    // every round, although their times spread over two modes.
    let out = measure_rows(&threads(), FIXED, &mut |i, r| {
        let slow = if r % 2 == 0 { 1.0 } else { 2.0 };
        Ok(Some(run(slow * [1.0, 1.0 / 1.8, 1.0 / 1.9][i])))
    })
    .unwrap();
    let two = out[1].as_ref().unwrap().spread;
    assert!((two.speedup.value - 1.8).abs() < 1e-9, "{two:?}");
    assert!(two.speedup.relative_half_width() < 1e-9, "{two:?}");
    assert_eq!(two.speedup.side_of(1.0), Side::Above);
    assert_eq!(two.base_seen, (1.0, 2.0));
    // The one-thread row is its own base: exactly 1.
    assert_eq!(out[0].as_ref().unwrap().spread.speedup.value, 1.0);
}

#[test]
fn rows_of_several_workers_get_the_ceiling_of_their_rounds() {
    let walls = [Some(0.5), Some(0.6), Some(0.5)];
    let base = [Some(1.0), Some(0.9), Some(1.0)];
    let ceilings = vec![vec![(2, 2.0)], vec![(2, 1.5)], vec![(2, 2.0)]];
    let s = spread_of([&walls, &[]], [&base, &[]], &ceilings, 2).unwrap();
    assert_eq!(s.ceiling.unwrap().value, 2.0);
    assert_eq!(s.ceiling_seen, Some((1.5, 2.0)));
    // Round shares: 2.0/2.0, 1.5/1.5, 2.0/2.0.
    let share = s.vs_ceiling.unwrap();
    assert!((share.value - 1.0).abs() < 1e-9, "{share:?}");
    // One worker: no ceiling.
    let one = spread_of([&walls, &[]], [&base, &[]], &ceilings, 1).unwrap();
    assert!(one.ceiling.is_none() && one.vs_ceiling.is_none() && one.ceiling_seen.is_none());
    // No round in which both ran: nothing to say.
    assert!(
        spread_of(
            [&[None, Some(1.0)], &[]],
            [&[Some(1.0), None], &[]],
            &ceilings,
            2
        )
        .is_none()
    );
}

#[test]
fn a_round_with_another_answer_is_a_wrong_answer() {
    let err = measure_rows(&threads(), FIXED, &mut |i, r| {
        Ok(Some(RowRun {
            total: if i == 1 && r == 2 { 8 } else { 7 },
            ..run(1.0)
        }))
    })
    .unwrap_err();
    match err {
        Error::WrongAnswer { what, got, .. } => {
            assert_eq!(what, "round 3 of parlab threads, 2 threads");
            assert_eq!(got, "8");
        }
        other => panic!("{other}"),
    }
}

#[test]
fn a_row_that_stops_keeps_the_rounds_it_ran_and_a_failure_stops_all() {
    let out = measure_rows(&threads(), FIXED, &mut |i, r| {
        Ok((i != 2 || r < 2).then(|| run(1.0)))
    })
    .unwrap();
    assert_eq!(out[2].as_ref().unwrap().spread.runs, 2);
    let never = measure_rows(
        &threads(),
        FIXED,
        &mut |i, _| Ok((i != 1).then(|| run(1.0))),
    )
    .unwrap();
    assert!(never[1].is_none());
    let mut calls = 0;
    let err = measure_rows(&threads(), FIXED, &mut |_, _| {
        calls += 1;
        Err::<Option<RowRun>, _>(Error::invalid("workers", "0", "at least 1"))
    });
    assert!(err.unwrap_err().is_usage());
    assert_eq!(calls, 1);
}

#[test]
fn rounds_go_on_past_the_least_until_the_budget_or_the_most() {
    let rounds = Rounds {
        least: 2,
        budget: Duration::from_secs(3600),
        most: 5,
    };
    let out = measure_rows(&threads()[..1], rounds, &mut |_, _| Ok(Some(run(1.0)))).unwrap();
    assert_eq!(out[0].as_ref().unwrap().spread.runs, 5);
}

const THREE: Rounds = Rounds {
    least: 3,
    budget: Duration::ZERO,
    most: 3,
};

#[test]
fn undecided_rows_get_more_rounds_with_their_base_only() {
    // Six rounds planned. 2 threads are decided at once (1.9x every round); 4 threads lose 10%
    // to one thread, but two of its rounds met a burst (1.08x), so its interval holds 1 and it
    // gets more rounds, at 0.9, until it is decided.
    let six = Rounds {
        least: 6,
        budget: Duration::ZERO,
        most: 6,
    };
    let mut seen = Vec::new();
    let out = measure_rows(&threads(), six, &mut |i, r| {
        seen.push((r, i));
        let four = [0.83, 1.08, 1.08].get(r).copied().unwrap_or(0.9);
        Ok(Some(run([1.0, 1.0 / 1.9, 1.0 / four][i])))
    })
    .unwrap();
    let extra: Vec<(usize, usize)> = seen.iter().copied().filter(|s| s.0 >= 6).collect();
    // Only the one-thread row and the 4 threads, in alternating order.
    assert_eq!(&extra[..4], [(6, 0), (6, 2), (7, 2), (7, 0)]);
    assert!(extra.iter().all(|&(_, i)| i != 1), "{extra:?}");
    let four = out[2].as_ref().unwrap().spread;
    assert_eq!(four.runs, 6 + extra.len() / 2);
    // Decided before the cap of twelve rounds: slower.
    assert!(four.runs < 12, "{four:?}");
    assert!(crate::reproduce::verdict::decided(&four), "{four:?}");
    assert_eq!(four.speedup.side_of(1.0), Side::Below);
    assert_eq!(out[1].as_ref().unwrap().spread.runs, 6);
}

#[test]
fn more_rounds_stop_at_as_many_again() {
    // A row that never settles, cheap beside a decided one: at most as many rounds again as
    // were planned.
    let out = measure_rows(&threads(), THREE, &mut |i, r| {
        let two = if r % 2 == 0 { 0.6 } else { 1.5 };
        Ok(Some(run([1.0, 1.0 / two, 5.0][i])))
    })
    .unwrap();
    assert_eq!(out[1].as_ref().unwrap().spread.runs, 6);
    assert_eq!(out[2].as_ref().unwrap().spread.runs, 3);
}

#[test]
fn more_rounds_stop_at_as_long_again() {
    // Past the planned rounds the machine slows down a hundredfold: the first round more
    // already takes as long as the planned ones did, and is the last.
    let mut rounds_run = 0;
    let out = measure_rows(&threads(), THREE, &mut |i, r| {
        rounds_run = rounds_run.max(r + 1);
        let two = if r % 2 == 0 { 0.6 } else { 1.5 };
        let slow = if r < 3 { 1.0 } else { 100.0 };
        Ok(Some(run(slow * [1.0, 1.0 / two, 0.5][i])))
    })
    .unwrap();
    assert_eq!(rounds_run, 4);
    assert_eq!(out[1].as_ref().unwrap().spread.runs, 4);
}

#[test]
fn more_rounds_go_up_to_the_most_when_it_is_above_twice() {
    // Nine rounds at most, three planned; the undecided row is cheap beside a decided one, so
    // time does not stop it first: nine rounds.
    let rounds = Rounds {
        least: 3,
        budget: Duration::ZERO,
        most: 9,
    };
    let out = measure_rows(&threads(), rounds, &mut |i, r| {
        let two = if r % 2 == 0 { 0.6 } else { 1.5 };
        Ok(Some(run([0.1, 0.1 / two, 5.0][i])))
    })
    .unwrap();
    assert_eq!(out[1].as_ref().unwrap().spread.runs, 9);
    assert_eq!(out[2].as_ref().unwrap().spread.runs, 3);
}

/// A row's CPUs busy and speedup at equal speed, from its `[walls, cpus]` and its base's.
fn equal_speed(
    row: [&[Option<f64>]; 2],
    base: [&[Option<f64>]; 2],
) -> Option<(stats::Estimate, stats::Estimate)> {
    let s = spread_of(row, base, &[], 1)?;
    Some((s.cpus?, s.at_equal_speed?))
}

#[test]
fn a_row_is_judged_at_the_cpu_speed_of_its_one_thread_runs() {
    let walls = |w: &[f64]| w.iter().map(|&w| Some(w)).collect::<Vec<_>>();
    // A lock-bound row: one CPU busy (CPU time = wall time) in every round. Where the one-thread
    // run took longer in CPU time for the same work (1.2 s against 1.0 s), its CPU ran slower:
    // the clock's 1.2x is the machine's, and at equal speed the row is level.
    let base = walls(&[1.2, 1.0, 1.2, 1.0, 1.2]);
    let row = walls(&[1.0, 1.0, 1.0, 1.0, 1.0]);
    let (busy, equal) = equal_speed([&row, &row], [&base, &base]).unwrap();
    assert_eq!(busy.value, 1.0);
    assert!(
        (equal.value - 1.0).abs() < 1e-9 && (equal.high - 1.0).abs() < 1e-9,
        "{equal:?}"
    );
    // Two threads in parallel: half the wall time, the same CPU time: 2x at equal speed.
    let par = walls(&[0.5, 0.5, 0.5, 0.5, 0.5]);
    let same = walls(&[1.0; 5]);
    let (busy, equal) = equal_speed([&par, &same], [&same, &same]).unwrap();
    assert_eq!((busy.value, equal.value), (2.0, 2.0));
    // More CPU time than one thread (overhead, or a slower CPU: they look alike): the clock's
    // ratio stands, never raised.
    let more = walls(&[1.3; 5]);
    let (_, equal) = equal_speed([&row, &more], [&same, &same]).unwrap();
    assert_eq!(equal.value, 1.0);
}

#[test]
fn no_speed_is_judged_without_every_cpu_time() {
    let some = |w: &[f64]| w.iter().map(|&w| Some(w)).collect::<Vec<_>>();
    let walls = some(&[1.0, 1.0, 1.0]);
    // No CPU time at all (a clock that did not move): nothing to compare.
    let none = some(&[0.0, 0.0, 0.0]);
    assert!(equal_speed([&walls, &none], [&walls, &none]).is_none());
    // A run that waited for a CPU half the time (a loaded machine) still counts its CPU time:
    // it did the work in half the one-thread run's CPU time, so its CPU ran twice as fast, and
    // at equal speed it would have taken twice as long again: 0.5x, the half CPU it kept busy.
    let half = some(&[0.5, 0.5, 0.5]);
    let (busy, equal) = equal_speed([&walls, &half], [&walls, &walls]).unwrap();
    assert_eq!((busy.value, equal.value), (0.5, 0.5));
    // A round whose CPU time was not counted.
    let gap = vec![Some(1.0), None, Some(1.0)];
    assert!(equal_speed([&walls, &gap], [&walls, &walls]).is_none());
    assert!(equal_speed([&walls, &walls], [&walls, &gap]).is_none());
    // Rounds where the row did not run are left out, not missing.
    let skipped = vec![Some(1.0), None, Some(1.0)];
    let (_, equal) = equal_speed([&skipped, &gap], [&walls, &walls]).unwrap();
    assert_eq!(equal.value, 1.0);
}

#[test]
fn measured_rows_carry_their_cpus_and_their_speedup_equal_speed() {
    // The gil model's case: a lone thread landing on the slower vCPU in every other round.
    let out = measure_rows(&threads(), FIXED, &mut |i, r| {
        let slow = if i == 0 && r % 2 == 0 { 1.3 } else { 1.0 };
        Ok(Some(RowRun {
            cpu_s: Some(slow),
            ..run(slow)
        }))
    })
    .unwrap();
    let two = out[1].as_ref().unwrap().spread;
    assert!(two.speedup.high > 1.25, "{two:?}");
    let (busy, equal) = (two.cpus.unwrap(), two.at_equal_speed.unwrap());
    assert_eq!((busy.value, equal.value, equal.high), (1.0, 1.0, 1.0));
    assert_eq!(two.judged(), equal);
    // Runs without CPU times: judged by the clock.
    let plain = measure_rows(&threads(), FIXED, &mut |_, _| Ok(Some(run(1.0)))).unwrap();
    let s = plain[1].as_ref().unwrap().spread;
    assert!(s.cpus.is_none() && s.at_equal_speed.is_none() && s.judged() == s.speedup);
}

#[test]
fn the_share_of_the_ceiling_is_taken_at_equal_speed() {
    // Two threads at 2.2x by the clock against a ceiling of 2.0, because the one-thread run
    // used 1.1 s of CPU for what the row did in 1.0 s: at equal speed 2.0x, all of the ceiling.
    let some = |w: &[f64]| w.iter().map(|&w| Some(w)).collect::<Vec<_>>();
    let (walls, cpus) = (some(&[0.5, 0.5, 0.5]), some(&[1.0, 1.0, 1.0]));
    let (base, base_cpus) = (some(&[1.1, 1.1, 1.1]), some(&[1.1, 1.1, 1.1]));
    let ceilings = vec![vec![(2, 2.0)]; 3];
    let s = spread_of([&walls, &cpus], [&base, &base_cpus], &ceilings, 2).unwrap();
    assert!((s.speedup.value - 2.2).abs() < 1e-9, "{s:?}");
    assert!((s.vs_ceiling.unwrap().value - 1.0).abs() < 1e-9, "{s:?}");
    // Without CPU times, the clock's ratio over the ceiling.
    let s = spread_of([&walls, &[]], [&base, &[]], &ceilings, 2).unwrap();
    assert!((s.vs_ceiling.unwrap().value - 1.1).abs() < 1e-9, "{s:?}");
}

#[test]
fn a_row_whose_ceiling_samples_were_all_dropped_is_bounded_by_the_cpus_it_kept_busy() {
    // On a busy machine: 4 threads kept 0.94 CPUs busy and ran 2.2x (1.6x) faster than one
    // thread, whose runs waited for a CPU; no ceiling sample survived. The CPU count, then the
    // CPUs kept busy, bound the row: an artefact either way, never "faster".
    for (ratio, why) in [
        (2.2, "above the 2 CPUs"),
        (1.6, "0.94 CPUs its runs kept busy"),
    ] {
        let spread = spread_of(
            [&[Some(0.45); 7], &[Some(0.94 * 0.45); 7]],
            [&[Some(0.45 * ratio); 7], &[Some(0.94 * 0.45); 7]],
            &[],
            4,
        )
        .map(|s| Spread {
            cpu_count: Some(2),
            ..s
        })
        .unwrap();
        assert_eq!(spread.ceiling, None);
        assert_eq!(
            spread.verdict(),
            crate::measure::Verdict::Artefact,
            "{spread:?}"
        );
        let said = crate::measure::judge::artefact(&spread.judged(), spread.bounds()).unwrap();
        assert!(said.contains(why), "{said}");
        // The table's sentence names the bound it lies above.
        let row = crate::reproduce::ReproduceRow {
            spread: Some(spread),
            ..crate::reproduce::ReproduceRow::new(threads()[2].0.clone(), Variant::Threads(4))
        };
        let ran = crate::reproduce::verdict::ran(&row, "1 thread");
        assert!(
            ran.starts_with("faster than the machine allowed") && ran.contains(why),
            "{ran}"
        );
        // As before the fix: unbounded, the row read faster.
        let unbounded = Spread {
            cpu_count: None,
            ..spread
        };
        assert_eq!(unbounded.verdict(), crate::measure::Verdict::Faster);
    }
    // The engine sets the CPU count on CPU-bound rows.
    let (out, _) = measure(&threads(), FIXED, Some(2), &mut |i, _| {
        // The one-thread run kept 0.45 of a CPU busy, the others 0.94.
        let (wall, cpu): (f64, f64) = [(1.0, 0.45), (0.45, 0.94 * 0.45), (0.45, 0.94 * 0.45)][i];
        Ok(Some(RowRun {
            cpu_s: Some(cpu),
            ..run(wall)
        }))
    })
    .unwrap();
    let four = out[2].as_ref().unwrap().spread;
    assert_eq!(four.cpu_count, Some(2));
    assert_eq!(
        four.verdict(),
        crate::measure::Verdict::Artefact,
        "{four:?}"
    );
}
