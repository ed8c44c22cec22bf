//! How worker processes are started: the [`StartMethod`]s, named as Python's
//! `multiprocessing` names them, so that `--start` reads the same in both worlds.

/// How worker processes are started; the names are Python's `multiprocessing` start methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartMethod {
    /// Every worker executes the worker program afresh (a new address space, the dynamic loader,
    /// the program's start-up).
    Spawn,
    /// The worker program is executed once per parlab process, as a fork server, and every
    /// worker is forked from it: cheaper per worker, same isolation. Linux only.
    ForkServer,
}

impl StartMethod {
    /// Every method, in the order they are listed to users.
    pub const ALL: [StartMethod; 2] = [StartMethod::ForkServer, StartMethod::Spawn];

    /// The method's name, as `--start` takes it.
    pub fn name(self) -> &'static str {
        match self {
            StartMethod::Spawn => "spawn",
            StartMethod::ForkServer => "forkserver",
        }
    }
}

impl Default for StartMethod {
    /// `forkserver` where it is supported (Linux), else `spawn`.
    fn default() -> Self {
        if cfg!(target_os = "linux") {
            StartMethod::ForkServer
        } else {
            StartMethod::Spawn
        }
    }
}

crate::named::by_name!(StartMethod, "start method", StartMethod::ALL);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_method_parses_back_from_its_name() {
        crate::named::assert_names_round_trip(&StartMethod::ALL, "fork", "forkserver");
    }
}
