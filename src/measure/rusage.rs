//! What a run cost the machine besides wall time: CPU time from `getrusage`, peak resident
//! memory from `/proc`.
//!
//! CPU time counts this process and its reaped children, so that the work of worker processes
//! is charged to the run that started them. Peak memory is this process's own high-water mark,
//! reset before each run; a worker's peak is left out because the kernel's figure for a child
//! started with vfork semantics includes the parent's memory.

use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::time::TimeVal;

/// CPU seconds used so far by this process and its reaped children, together.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct CpuTime {
    /// User time, seconds.
    pub user_s: f64,
    /// System time, seconds.
    pub sys_s: f64,
}

impl CpuTime {
    /// The CPU time used up to now.
    pub fn now() -> CpuTime {
        let (me, children) = (
            usage(UsageWho::RUSAGE_SELF),
            usage(UsageWho::RUSAGE_CHILDREN),
        );
        CpuTime {
            user_s: me.user_s + children.user_s,
            sys_s: me.sys_s + children.sys_s,
        }
    }

    /// The CPU time used between `earlier` and this reading.
    pub fn since(self, earlier: CpuTime) -> CpuTime {
        CpuTime {
            user_s: self.user_s - earlier.user_s,
            sys_s: self.sys_s - earlier.sys_s,
        }
    }
}

/// `getrusage(who)`'s user and system times; zeros where it fails, so a run is still measured
/// for its wall time.
fn usage(who: UsageWho) -> CpuTime {
    let secs = |t: TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 * 1e-6;
    getrusage(who).map_or(CpuTime::default(), |u| CpuTime {
        user_s: secs(u.user_time()),
        sys_s: secs(u.system_time()),
    })
}

/// Resets this process's peak-RSS high-water mark (Linux: `5` into `/proc/self/clear_refs`).
pub(crate) fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// This process's peak RSS since the last reset, KiB.
pub(crate) fn peak_rss_kib() -> Option<u64> {
    proc_field("/proc/self/status", "VmHWM:")
}

/// The first number after `field` in a `/proc` file of `Name: value unit` lines (`status`,
/// `meminfo`, `smaps_rollup`).
pub(crate) fn proc_field<T: std::str::FromStr>(path: &str, field: &str) -> Option<T> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .find_map(|l| l.strip_prefix(field))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_grows_with_work_and_subtracts() {
        let before = CpuTime::now();
        let mut x = 0u64;
        let t0 = std::time::Instant::now();
        while t0.elapsed().as_millis() < 30 {
            x = std::hint::black_box(x.wrapping_add(1));
        }
        let used = CpuTime::now().since(before);
        assert!(used.user_s + used.sys_s > 0.0, "{used:?}");
        assert!(used.user_s >= 0.0 && used.sys_s >= 0.0, "{used:?}");
    }

    #[test]
    fn peak_rss_is_read_and_at_least_the_current_rss() {
        reset_peak_rss();
        let peak = peak_rss_kib().expect("VmHWM in /proc/self/status");
        let now: u64 = proc_field("/proc/self/status", "VmRSS:").unwrap();
        assert!(
            peak > 0 && peak + 1024 >= now,
            "peak {peak} KiB, now {now} KiB"
        );
    }

    #[test]
    fn proc_field_reads_the_number_after_its_name() {
        assert!(proc_field::<u64>("/proc/meminfo", "MemTotal:").is_some_and(|kib| kib > 0));
        assert_eq!(proc_field::<u64>("/proc/meminfo", "NoSuchField:"), None);
        assert_eq!(proc_field::<u64>("/no/such/file", "MemTotal:"), None);
    }
}
