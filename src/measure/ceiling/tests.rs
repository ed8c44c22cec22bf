//! The ceiling probe's tests: fake rates for the arithmetic, and a few real probes.

use super::*;

fn probe(workers: &[usize]) -> Probe {
    Probe {
        workers: workers.to_vec(),
        cpus: vec![0, 1],
        per_loop: MIN_LOOP,
        earned: 0.0,
        last: None,
        spent: Duration::ZERO,
    }
}

#[test]
fn what_probing_cost_is_the_sum_of_the_samples_timed_for_real() {
    let mut p = Probe::new(&[2]);
    assert_eq!(p.spent(), Duration::ZERO);
    // The first sample is timed; the next, with no round run since to pay for it, repeats it
    // at no cost.
    let (first, cost) = p.sample().unwrap();
    assert!(cost > Duration::ZERO);
    assert_eq!(p.spent(), cost);
    let (again, free) = p.sample().unwrap();
    assert_eq!(free, Duration::ZERO);
    assert_eq!(again, first);
    assert_eq!(p.spent(), cost);
}

#[test]
fn short_rounds_are_probed_as_often_as_they_pay_for() {
    let mut p = probe(&[2]);
    assert!(p.due(), "the first round is always probed");
    p.last = Some(vec![(2, 1.5)]);
    // Rounds of 100 ms earn 6 ms each; a probe of three 15 ms loops costs 45 ms: one probe
    // every seven or eight rounds.
    let mut probed = Vec::new();
    for _ in 0..30 {
        p.fit(Duration::from_millis(100));
        probed.push(p.due());
        if p.due() {
            p.earned -= 0.045;
        }
    }
    assert_eq!(p.per_loop, MIN_LOOP);
    let probes = probed.iter().filter(|&&d| d).count();
    assert!((3..=4).contains(&probes), "{probed:?}");
    assert!(!probed.windows(2).any(|w| w[0] && w[1]), "{probed:?}");
    p.earned = 0.0;
    // Between probes the last sample is given again, at no cost.
    let (again, cost) = p.sample().unwrap();
    assert_eq!((again, cost), (vec![(2, 1.5)], Duration::ZERO));
}

#[test]
fn an_idle_machine_gives_a_ceiling_of_w_and_a_busy_core_less() {
    // The fake clock of an idle two-core machine: two threads count twice as fast as one.
    let r = 2.7e9;
    let idle = probe(&[2]).sample_with(&mut |w| (r * w as f64).into());
    assert_eq!(idle, [(2, 2.0)]);
    // A neighbour takes half of one core: together the two threads get one and a half.
    let busy = probe(&[2]).sample_with(&mut |w| if w == 1 { r } else { 1.5 * r }.into());
    assert_eq!(busy, [(2, 1.5)]);
    // Four threads on two cores count no faster than two: the ceiling at 4 is 2.
    let four = probe(&[2, 4]).sample_with(&mut |w| (r * (w as f64).min(2.0)).into());
    assert_eq!(four, [(2, 2.0), (4, 2.0)]);
}

#[test]
fn one_worker_needs_no_probe() {
    let mut calls = 0;
    let p = probe(&[]);
    let sample = p.sample_with(&mut |_| {
        calls += 1;
        1.0.into()
    });
    assert!(sample.is_empty());
    assert_eq!(calls, 0);
    assert!(Probe::new(&[1, 1]).workers().is_empty());
}

#[test]
fn loops_fit_the_round_they_precede() {
    let mut p = probe(&[2, 4, 8]);
    p.fit(Duration::ZERO);
    assert_eq!(p.per_loop, MIN_LOOP);
    // A 2 s round: 6% of it over 5 loops (one thread twice, then 2, 4 and 8) would be 24
    // ms each, more than the longest allowed.
    p.fit(Duration::from_secs(2));
    assert_eq!(p.per_loop, MAX_LOOP);
    p.fit(Duration::from_millis(1500));
    assert_eq!(p.per_loop, Duration::from_millis(18));
}

#[test]
fn a_burst_on_one_single_thread_loop_does_not_raise_the_ceiling() {
    // The first one-thread loop runs while the host lends the vCPU a fifth of a core; the
    // second, after the two-thread loop, at full speed: the ceiling is 2, not 10.
    let r = 2.7e9;
    let mut ones = 0;
    let sample = probe(&[2]).sample_with(&mut |w| {
        if w > 1 {
            return (2.0 * r).into();
        }
        ones += 1;
        if ones == 1 { r / 5.0 } else { r }.into()
    });
    assert_eq!(sample, [(2, 2.0)]);
    assert_eq!(ones, 2);
}

#[test]
fn one_thread_drifting_between_its_two_loops_counts_at_its_mean_rate() {
    // The one-thread loops run at 0.9 and 1.1 of a rate, the two threads together at twice
    // the mean: the ceiling is 2, where the faster loop alone would make it 1.82.
    let r = 1e9;
    let mut ones = 0;
    let sample = probe(&[2]).sample_with(&mut |w| {
        if w > 1 {
            return (2.0 * r).into();
        }
        ones += 1;
        if ones == 1 { 0.9 * r } else { 1.1 * r }.into()
    });
    assert_eq!(sample, [(2, 2.0)]);
}

#[test]
fn a_ceiling_above_what_the_cpus_allow_is_taken_again_then_dropped() {
    let r = 1e9;
    // Two threads "counting" 2.5 times one thread's rate on two CPUs: taken three times, never
    // used.
    let mut calls = 0;
    let high = probe(&[2]).sample_with(&mut |w| {
        calls += 1;
        if w == 1 { r } else { 2.5 * r }.into()
    });
    assert!(high.is_empty(), "{high:?}");
    assert_eq!(calls, 2 + 1 + RETAKES);
    // A first reading too high, the retake within reach: the retake is used.
    let mut tries = 0;
    let retaken = probe(&[2]).sample_with(&mut |w| {
        if w == 1 {
            return r.into();
        }
        tries += 1;
        if tries == 1 { 3.0 * r } else { 1.6 * r }.into()
    });
    assert_eq!(retaken, [(2, 1.6)]);
    // Within the slack, held to the count: 4 threads on 2 CPUs reading 2.04 give 2.
    let slack = probe(&[4]).sample_with(&mut |w| if w == 1 { r } else { 2.04 * r }.into());
    assert_eq!(slack, [(4, 2.0)]);
}

#[test]
fn the_ceiling_is_taken_at_equal_cpu_speed() {
    // Two threads that spent 0.8 of the one thread's CPU time per index ran on faster CPUs: a
    // clock ratio of 2.0 is 1.6 at equal speed. More CPU time per index (overhead) stands.
    let r = 1e9;
    let at = |mine: f64| {
        probe(&[2]).sample_with(&mut |w| Loop {
            per_s: if w == 1 { r } else { 2.0 * r },
            cpu_per_index: Some(if w == 1 { 1.0 } else { mine }),
        })
    };
    assert_eq!(at(0.8), [(2, 1.6)]);
    assert_eq!(at(1.2), [(2, 2.0)]);
}

#[test]
fn relative_speeds_are_against_the_fastest_cpu() {
    let s = relative_speeds(&[(0, 0.10), (1, 0.20)]);
    assert_eq!(s[0].relative, 1.0);
    assert_eq!(s[1].relative, 0.5);
    assert!(s[1].relative < UNEQUAL_BELOW);
}

#[test]
fn a_real_probe_measures_a_positive_finite_ceiling_within_bounds() {
    let mut p = Probe::new(&[1, 2]);
    let (sample, cost) = p.sample().unwrap();
    // Other tests load the machine while this one runs, and the load may change between the
    // one-thread and the two-thread loop: a single sample is only known to be a rate ratio.
    // It is never above what the CPUs allow: one that read higher, taken again and still
    // higher, is dropped (a busy machine), so the sample at 2 workers is there or not at all.
    assert!(sample.len() <= 1, "{sample:?}");
    for &(w, c) in &sample {
        assert_eq!(w, 2);
        assert!(c.is_finite() && c > 0.0 && c <= 2.0, "{c}");
    }
    assert!(cost > Duration::ZERO);
    let speeds = cpu_speeds().unwrap();
    assert!(
        speeds.iter().all(|s| s.relative > 0.0 && s.relative <= 1.0),
        "{speeds:?}"
    );
}

#[test]
#[cfg(target_os = "linux")]
fn a_pinned_thread_runs_on_its_cpu_and_gets_its_cpus_back() {
    let cpus = allowed_cpus();
    assert!(!cpus.is_empty());
    let last = *cpus.last().unwrap();
    std::thread::spawn(move || {
        {
            let _pinned = pin(last).expect("a thread may pin itself to a CPU it may use");
            assert_eq!(allowed_cpus(), [last]);
            // A thread started while pinned inherits the one CPU.
            let inherited = std::thread::spawn(allowed_cpus).join().unwrap();
            assert_eq!(inherited, [last]);
        }
        assert_eq!(allowed_cpus(), cpus);
    })
    .join()
    .unwrap();
}

#[test]
fn a_refused_counting_thread_fails_the_sample_and_the_others_stop() {
    // One thread for the one-thread loop and two of the eight: the two already counting must
    // stop, or the scope would wait for them for ever.
    crate::limits::allow_threads(Some(3));
    let mut p = Probe::new(&[8]);
    let outcome = p.sample();
    crate::limits::allow_threads(None);
    let e = outcome.unwrap_err();
    assert!(
        e.to_string()
            .starts_with("starting thread parlab-ceiling-2: ")
            && e.to_string().contains("RLIMIT_NPROC"),
        "{e}"
    );
    assert!(e.is_limit());
    // The probe still works once threads are allowed again (its one sample may be dropped, as
    // any sample above what the CPUs allow is, on a busy machine: no error either way).
    let (samples, _) = p.sample().unwrap();
    assert!(samples.len() <= 1, "{samples:?}");
}
