//! Waiting for a child program (CPython, an MPI launcher) with a time limit.

use std::process::Child;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// Waits for `child` to exit. Once `limit` has passed it is killed and reaped, and the error
/// names `what`. The child's output is left in its pipes for the caller to read: callers run
/// programs that print little, far below a pipe's capacity, so waiting first cannot deadlock.
pub(crate) fn wait_limited(child: &mut Child, limit: Option<Duration>, what: &str) -> Result<()> {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return Ok(()),
            Ok(None) if limit.is_none_or(|l| started.elapsed() < l) => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::io(
                    what,
                    std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!("killed after {:?}", limit.unwrap_or_default()),
                    ),
                ));
            }
            Err(e) => return Err(Error::io(format!("waiting for {what}"), e)),
        }
    }
}
