//! What machine a benchmark ran on, and how busy it was.

use serde::{Deserialize, Serialize};

use crate::measure::ceiling::{CpuSpeed, UNEQUAL_BELOW};

/// The machine section of a report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// CPU model name, from `/proc/cpuinfo`.
    pub cpu_model: String,
    /// Threads the machine can run at once (`available_parallelism`).
    pub available_parallelism: usize,
    /// Operating system and kernel release.
    pub os: String,
    /// Load averages (1, 5, 15 minutes) when the benchmark started.
    pub load_before: [f64; 3],
    /// Load averages when it ended (or was last written).
    pub load_after: [f64; 3],
    /// Set when the machine was busy: the figures are then noisier than usual.
    pub busy_warning: Option<String>,
    /// Each CPU's speed relative to the fastest, measured at the start with a pinned loop
    /// (empty where the OS does not allow pinning).
    #[serde(default)]
    pub cpu_speeds: Vec<CpuSpeed>,
    /// Set when the CPUs ran at unequal speeds: a static split is then bounded by the slowest.
    #[serde(default)]
    pub unequal_cpus: Option<String>,
}

impl Machine {
    /// Records each CPU's relative speed and says when they are unequal.
    pub fn set_cpu_speeds(&mut self, speeds: Vec<CpuSpeed>) {
        let slow: Vec<String> = speeds
            .iter()
            .filter(|s| s.relative < UNEQUAL_BELOW)
            .map(|s| format!("CPU {} at {:.0}%", s.cpu, s.relative * 100.0))
            .collect();
        self.unequal_cpus = (!slow.is_empty()).then(|| {
            format!(
                "the CPUs ran at unequal speeds ({} of the fastest): a static split is bounded \
                 by the slowest worker",
                slow.join(", ")
            )
        });
        self.cpu_speeds = speeds;
    }

    /// Reads the machine as it is now.
    pub fn now() -> Machine {
        let cpu_model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|s| {
                s.lines()
                    .find_map(|l| l.strip_prefix("model name"))
                    .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_string())
            })
            .unwrap_or_else(|| std::env::consts::ARCH.to_string());
        let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let load = load_average();
        let mut m = Machine {
            cpu_model,
            available_parallelism: std::thread::available_parallelism().map_or(1, |n| n.get()),
            os: format!("{} {release}", std::env::consts::OS)
                .trim()
                .to_string(),
            load_before: load,
            load_after: load,
            busy_warning: None,
            cpu_speeds: Vec::new(),
            unequal_cpus: None,
        };
        m.check_busy();
        m
    }

    /// Records the load now and refreshes the warning.
    pub fn finish(&mut self) {
        self.load_after = load_average();
        self.check_busy();
    }

    /// Busy by the one rule of every command ([`crate::measure::busy::by_load`]): a one-minute
    /// load above a quarter of the CPUs before the run started (the benchmark's own load shows
    /// in `load_after`, so only the start is judged).
    fn check_busy(&mut self) {
        self.busy_warning = crate::measure::busy::by_load(
            self.load_before[0],
            self.available_parallelism,
            "the benchmark",
        );
    }
}

/// `/proc/loadavg`'s three averages (zeros where it cannot be read).
pub fn load_average() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut it = text.split_whitespace().map(|v| v.parse().unwrap_or(0.0));
    [
        it.next().unwrap_or(0.0),
        it.next().unwrap_or(0.0),
        it.next().unwrap_or(0.0),
    ]
}
