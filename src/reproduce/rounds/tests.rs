//! Rounds on fake runs: the order, the pairing, the ceiling, a wrong answer, a row that stops.

use super::*;
use crate::backend::BackendKind;
use crate::stats::Side;

fn run(wall_s: f64) -> Run {
    Run {
        wall_s,
        total: 7,
        gil: None,
        note: None,
    }
}

fn threads() -> Vec<(Who, Variant)> {
    let who = Who::Parlab(BackendKind::Threads);
    [1, 2, 4]
        .map(|n| (who.clone(), Variant::Threads(n)))
        .to_vec()
}

const FIXED: Rounds = Rounds {
    least: 4,
    budget: Duration::ZERO,
    most: 4,
};

#[test]
fn rounds_run_every_row_forwards_then_backwards() {
    let mut seen = Vec::new();
    let out = measure(&threads(), FIXED, None, &mut |i, r| {
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
    let out = measure(&threads(), FIXED, None, &mut |i, r| {
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
    let s = spread(&walls, &base, &ceilings, 2).unwrap();
    assert_eq!(s.ceiling.unwrap().value, 2.0);
    assert_eq!(s.ceiling_seen, Some((1.5, 2.0)));
    // Round shares: 2.0/2.0, 1.5/1.5, 2.0/2.0.
    let share = s.vs_ceiling.unwrap();
    assert!((share.value - 1.0).abs() < 1e-9, "{share:?}");
    // One worker: no ceiling.
    let one = spread(&walls, &base, &ceilings, 1).unwrap();
    assert!(one.ceiling.is_none() && one.vs_ceiling.is_none() && one.ceiling_seen.is_none());
    // No round in which both ran: nothing to say.
    assert!(spread(&[None, Some(1.0)], &[Some(1.0), None], &ceilings, 2).is_none());
}

#[test]
fn a_round_with_another_answer_is_a_wrong_answer() {
    let err = measure(&threads(), FIXED, None, &mut |i, r| {
        Ok(Some(Run {
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
    let out = measure(&threads(), FIXED, None, &mut |i, r| {
        Ok((i != 2 || r < 2).then(|| run(1.0)))
    })
    .unwrap();
    assert_eq!(out[2].as_ref().unwrap().spread.runs, 2);
    let never = measure(&threads(), FIXED, None, &mut |i, _| {
        Ok((i != 1).then(|| run(1.0)))
    })
    .unwrap();
    assert!(never[1].is_none());
    let mut calls = 0;
    let err = measure(&threads(), FIXED, None, &mut |_, _| {
        calls += 1;
        Err::<Option<Run>, _>(Error::invalid("workers", "0", "at least 1"))
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
    let out = measure(&threads()[..1], rounds, None, &mut |_, _| {
        Ok(Some(run(1.0)))
    })
    .unwrap();
    assert_eq!(out[0].as_ref().unwrap().spread.runs, 5);
}
