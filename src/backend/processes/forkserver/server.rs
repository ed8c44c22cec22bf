//! The fork server's side (in the server process): it greets parlab, then forks a worker per
//! request, each a child of parlab, which serves its part pipes directly.

use std::fs::File;
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;
use nix::sys::signal::{SigHandler, Signal, signal};
use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg, sendmsg};

use crate::backend::processes::serve::{
    EXIT_IO, EXIT_PROTOCOL, parent_from_env, quiet_panics, serve_pipes, tie_to_parent,
};
use crate::fault::Fault;

/// The server's greeting, followed by a space and its PID.
pub(super) const HELLO: &str = "parlab-forkserver 1";

/// The server's loop (in the server process): forks a worker per request until the socket on
/// standard input closes. Returns the exit code.
pub(in crate::backend::processes) fn serve() -> i32 {
    // SAFETY: ignoring a signal installs no handler code; the process is single-threaded.
    let _ = unsafe { signal(Signal::SIGINT, SigHandler::SigIgn) };
    let parent = parent_from_env();
    tie_to_parent(parent);
    // Set once here, inherited by every worker.
    quiet_panics();
    let socket = std::io::stdin();
    let socket = socket.as_fd();
    if send(socket, format!("{HELLO} {}", std::process::id()).as_bytes()).is_err() {
        return EXIT_IO;
    }
    let mut buf = [0u8; 256];
    let mut space = nix::cmsg_space!([RawFd; 2]);
    loop {
        let (n, fds) = {
            let mut iov = [IoSliceMut::new(&mut buf)];
            let msg = match recvmsg::<()>(
                socket.as_raw_fd(),
                &mut iov,
                Some(&mut space),
                MsgFlags::MSG_CMSG_CLOEXEC,
            ) {
                Ok(msg) => msg,
                Err(Errno::EINTR) => continue,
                Err(_) => return EXIT_IO,
            };
            let mut fds = Vec::new();
            for cmsg in msg.cmsgs().into_iter().flatten() {
                if let ControlMessageOwned::ScmRights(received) = cmsg {
                    // SAFETY: the kernel just installed these descriptors in this process;
                    // nothing else owns them.
                    fds.extend(
                        received
                            .into_iter()
                            .map(|fd| unsafe { OwnedFd::from_raw_fd(fd) }),
                    );
                }
            }
            (msg.bytes, fds)
        };
        if n == 0 {
            // parlab closed the socket: it is done, or gone.
            return 0;
        }
        let Ok([input, output]) = <[OwnedFd; 2]>::try_from(fds) else {
            return EXIT_PROTOCOL;
        };
        if buf[0] != b'S' {
            return EXIT_PROTOCOL;
        }
        // parlab checked the fault before sending it.
        let fault = std::str::from_utf8(&buf[1..n])
            .ok()
            .filter(|s| !s.is_empty())
            .and_then(|s| s.parse::<Fault>().ok());
        // SAFETY: `clone` without CLONE_VM is `fork`, with CLONE_PARENT added so that the child
        // is parlab's. This process is single-threaded and holds no locks here, so the child
        // may run any code; it only runs the worker and exits.
        let pid = unsafe {
            nix::libc::syscall(
                nix::libc::SYS_clone,
                (nix::libc::CLONE_PARENT | nix::libc::SIGCHLD) as nix::libc::c_ulong,
                0usize,
                0usize,
                0usize,
                0usize,
            )
        };
        if pid == 0 {
            let code = become_worker(input, output, parent, fault);
            // SAFETY: `_exit` ends the process at once. Nothing is buffered (the pipes are
            // written directly), so the exit handlers `exit` would run, which only tear down
            // what the server set up and cost page faults, are not needed.
            unsafe { nix::libc::_exit(code) }
        }
        let mut answer = Vec::with_capacity(5);
        if pid > 0 {
            answer.push(b'P');
            answer.extend_from_slice(&(pid as i32).to_le_bytes());
        } else {
            answer.push(b'E');
            answer.extend_from_slice(&Errno::last_raw().to_le_bytes());
        }
        drop((input, output));
        if send(socket, &answer).is_err() {
            return EXIT_IO;
        }
    }
}

/// Sends one message, with no descriptors, on the server's socket.
fn send(socket: BorrowedFd<'_>, bytes: &[u8]) -> nix::Result<usize> {
    sendmsg::<()>(
        socket.as_raw_fd(),
        &[IoSlice::new(bytes)],
        &[],
        MsgFlags::MSG_NOSIGNAL,
        None,
    )
}

/// In a freshly forked worker: closes its copy of the server's socket and serves parts on the
/// pipes.
fn become_worker(
    input: OwnedFd,
    output: OwnedFd,
    parent: Option<i32>,
    fault: Option<Fault>,
) -> i32 {
    // SAFETY: restoring the default action installs no handler code; the process is
    // single-threaded.
    let _ = unsafe { signal(Signal::SIGINT, SigHandler::SigDfl) };
    // SAFETY: descriptor 0 is the server's socket, owned by nothing else in this process; it
    // is closed here and never used again.
    drop(unsafe { OwnedFd::from_raw_fd(0) });
    tie_to_parent(parent);
    serve_pipes(File::from(input), File::from(output), fault)
}
