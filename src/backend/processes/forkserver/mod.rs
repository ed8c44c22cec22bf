//! The `forkserver` start method: one exec'd server process forks the workers.
//!
//! Starting a worker by `exec` costs a fresh address space, the dynamic loader and the
//! program's start-up, every time. With this method parlab starts the worker program once, as
//! a *fork server* (the same program, marked `PARLAB_WORKER=forkserver`; [`super::worker::init`]
//! sends it here), and asks it for workers. The server is single-threaded and has done nothing
//! but start, so forking it is cheap and safe; Python's `forkserver` start method works the
//! same way.
//!
//! - **Channel.** The server's standard input is a `SOCK_SEQPACKET` Unix socket. On start it
//!   sends `parlab-forkserver 1 PID`. Each request is one message: `S` followed by the fault to
//!   inject (empty for none), carrying two descriptors (`SCM_RIGHTS`): the worker's input (the
//!   read end of its parts pipe) and output (the write end of its results pipe). The server
//!   answers each request in order with `P` and the worker's PID, or `E` and an `errno`.
//!   Requests are pipelined, at most 32 unanswered (`IN_FLIGHT`), and parlab reads answers in the
//!   same `poll` loop that sends requests, so neither side ever blocks on a full socket.
//! - **Parentage.** The server forks with `clone(CLONE_PARENT)`, so every worker is a child of
//!   parlab, not of the server: parlab reaps it with `waitpid` and learns its exit code or
//!   signal first-hand, exactly as for a spawned worker. The server is started from a thread
//!   of its own that lives as long as the process, because `PR_SET_PDEATHSIG` (armed by the
//!   server and by each worker) fires when the *thread* that started the server ends.
//! - **Lifetime.** The server ignores `SIGINT` (Ctrl-C in a terminal signals the whole group;
//!   workers restore the default and stop), exits when its socket closes, and dies with
//!   parlab. A server found dead is started again on the next request; one that neither answers
//!   nor takes a request for 2 s is killed, and replaced on the next.
//!
//! This file is parlab's side; `server.rs` is the server's own loop, in the server process.

mod server;

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::File;
use std::io::{IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, PoisonError, mpsc};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::OFlag;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::socket::{
    AddressFamily, ControlMessage, MsgFlags, SockFlag, SockType, recvmsg, sendmsg, socketpair,
};
use nix::unistd::pipe2;

use self::server::HELLO;
pub(super) use self::server::serve;
use super::serve::{PARENT_ENV, WORKER_ENV};
use crate::fault::Fault;
use crate::limits;

/// The value of [`WORKER_ENV`] that makes the program a fork server.
pub const SERVER: &str = "forkserver";

/// How long parlab waits for a new server to greet it: an `exec` and the program's start-up.
const GREETING_LIMIT: Duration = Duration::from_secs(10);
/// How long parlab waits for the server to answer a request or take the next one: a `fork`,
/// normally well under 1 ms. A server that makes no progress for longer is taken for hung,
/// killed, and replaced on the next run (the start-up watchdog).
const ANSWER_LIMIT: Duration = Duration::from_secs(2);
/// Most requests sent and not yet answered. Both directions of the socket hold few messages
/// (each is charged a few hundred bytes of kernel buffer): with every request sent before any
/// answer is read, some 550 filled both, and parlab and the server each waited for the other.
/// With this bound neither buffer holds more than this many messages, and parlab reads answers
/// in the same `poll` loop that sends, so it never waits on the server without reading.
const IN_FLIGHT: usize = 32;

/// A worker the server forked: its PID and parlab's ends of its pipes.
#[derive(Debug)]
pub(super) struct Forked {
    /// The worker's PID; it is parlab's child.
    pub pid: u32,
    /// Parts go in here.
    pub input: File,
    /// Answers come out here.
    pub output: File,
}

/// A running server.
struct Server {
    program: PathBuf,
    args: Vec<OsString>,
    child: Child,
    socket: OwnedFd,
}

/// The servers started so far, one per worker program (usually just one).
static SERVERS: Mutex<Vec<Server>> = Mutex::new(Vec::new());

/// Forks one worker per entry of `faults` (each worker injects its fault, if any) from the
/// server of `program args`, starting the server first if needed. Each entry of the answer is
/// the worker or why it could not be started.
pub(super) fn fork_workers(
    program: PathBuf,
    args: Vec<OsString>,
    faults: &[Option<Fault>],
) -> Vec<Result<Forked, String>> {
    let mut servers = SERVERS.lock().unwrap_or_else(PoisonError::into_inner);
    // A server that died (killed, say) is replaced.
    servers.retain_mut(|s| matches!(s.child.try_wait(), Ok(None)));
    let at = match servers
        .iter()
        .position(|s| s.program == program && s.args == args)
    {
        Some(at) => at,
        None => match Server::start(program, args) {
            Ok(server) => {
                servers.push(server);
                servers.len() - 1
            }
            Err(e) => return faults.iter().map(|_| Err(e.clone())).collect(),
        },
    };
    let (answers, broken) = servers[at].fork(faults);
    if broken {
        // The server itself failed: stop it so that the next request starts a fresh one.
        let mut broken = servers.swap_remove(at);
        let _ = broken.child.kill();
        let _ = broken.child.wait();
    }
    answers
}

/// Stops every server and reaps it: each sees its socket close and exits (workers already
/// forked are not affected). Waits up to a second for each before killing it.
pub(super) fn shut_down() {
    let servers = std::mem::take(&mut *SERVERS.lock().unwrap_or_else(PoisonError::into_inner));
    for Server {
        mut child, socket, ..
    } in servers
    {
        drop(socket);
        let deadline = Instant::now() + Duration::from_secs(1);
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(200));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
}

impl Server {
    /// Starts the server and waits for its greeting.
    fn start(program: PathBuf, args: Vec<OsString>) -> Result<Server, String> {
        let describe = |e: &dyn std::fmt::Display| {
            format!(
                "starting the fork server {}: {e}",
                program.to_string_lossy()
            )
        };
        let (ours, theirs) = socketpair(
            AddressFamily::Unix,
            SockType::SeqPacket,
            None,
            SockFlag::SOCK_CLOEXEC,
        )
        .map_err(|e| describe(&limits::limit_error(e.into(), 0)))?;
        let mut cmd = Command::new(&program);
        cmd.args(&args)
            .env(WORKER_ENV, SERVER)
            .env(PARENT_ENV, std::process::id().to_string())
            .stdin(Stdio::from(theirs))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let mut child = launch(cmd).map_err(|e| describe(&limits::limit_error(e, 0)))?;
        let mut buf = [0u8; 64];
        let greeted =
            receive(ours.as_fd(), &mut buf, GREETING_LIMIT, Some(&mut child)).and_then(|n| {
                let text = String::from_utf8_lossy(&buf[..n]);
                let pid = text
                    .strip_prefix(HELLO)
                    .and_then(|rest| rest.trim().parse::<u32>().ok());
                match pid {
                    Some(pid) if pid == child.id() => Ok(()),
                    _ => Err(format!(
                        "it greeted with {text:?}: not a program that calls parlab::worker::init"
                    )),
                }
            });
        if let Err(e) = greeted {
            let _ = child.kill();
            let _ = child.wait();
            return Err(describe(&e));
        }
        Ok(Server {
            program,
            args,
            child,
            socket: ours,
        })
    }

    /// Asks for one worker per entry of `faults`, reading answers while sending (see
    /// [`IN_FLIGHT`]); true when the server itself failed.
    fn fork(&mut self, faults: &[Option<Fault>]) -> (Vec<Result<Forked, String>>, bool) {
        let server = format!("the fork server (pid {})", self.child.id());
        let socket = self.socket.as_fd();
        // Requests sent and not answered yet, oldest first: the server answers in order.
        let mut pending: VecDeque<(File, File)> = VecDeque::with_capacity(IN_FLIGHT);
        let mut answers = Vec::with_capacity(faults.len());
        // Why no more requests go out: the server broke, or this process ran out of something.
        let mut stopped: Option<(String, bool)> = None;
        let mut progress = Instant::now();
        loop {
            // Send while the window has room and the socket takes more.
            let mut full = false;
            while stopped.is_none() && pending.len() < IN_FLIGHT {
                let Some(fault) = faults.get(answers.len() + pending.len()) else {
                    break;
                };
                match request(socket, *fault, faults.len()) {
                    Ok(Some(pipes)) => {
                        pending.push_back(pipes);
                        progress = Instant::now();
                    }
                    Ok(None) => {
                        full = true;
                        break;
                    }
                    Err(Refused::Local(why)) => stopped = Some((why, false)),
                    Err(Refused::Server(e)) => {
                        stopped = Some((format!("{server} did not take the request: {e}"), true))
                    }
                }
            }
            if pending.is_empty() {
                break;
            }
            // The watchdog: a server that neither answers nor takes a request for
            // ANSWER_LIMIT is taken for hung.
            let left = ANSWER_LIMIT.saturating_sub(progress.elapsed());
            if left.is_zero() {
                stopped = Some((
                    format!("{server} did not answer within {ANSWER_LIMIT:?}"),
                    true,
                ));
                break;
            }
            let events = if full {
                PollFlags::POLLIN | PollFlags::POLLOUT
            } else {
                PollFlags::POLLIN
            };
            let mut fds = [PollFd::new(socket, events)];
            let ms = u16::try_from(left.as_millis().max(1)).unwrap_or(u16::MAX);
            let ready = match poll(&mut fds, PollTimeout::from(ms)) {
                Ok(_) => fds[0].revents().unwrap_or(PollFlags::empty()),
                Err(Errno::EINTR) => continue,
                Err(e) => {
                    stopped = Some((format!("{server} could not be polled: {e}"), true));
                    break;
                }
            };
            // Only what there is to read counts; room to send is taken at the top.
            if !ready.intersects(PollFlags::POLLIN | PollFlags::POLLHUP | PollFlags::POLLERR) {
                continue;
            }
            let mut buf = [0u8; 16];
            let n = match read_message(socket, &mut buf, Some(&mut self.child)) {
                Ok(n) => n,
                Err(e) => {
                    stopped = Some((format!("{server} {e}"), true));
                    break;
                }
            };
            progress = Instant::now();
            let (input, output) = pending.pop_front().expect("an answer to a pending request");
            let code = buf
                .get(1..5)
                .and_then(|b| b.try_into().ok())
                .map(i32::from_le_bytes);
            answers.push(match (buf[0], code, n) {
                (b'P', Some(pid), 5) if pid > 0 => Ok(Forked {
                    pid: pid as u32,
                    input,
                    output,
                }),
                (b'E', Some(errno), 5) => Err(format!(
                    "fork: {}",
                    limits::explain(Errno::from_raw(errno), faults.len())
                )),
                _ => {
                    stopped = Some((format!("{server} sent a bad answer {:?}", &buf[..n]), true));
                    break;
                }
            });
        }
        // A request the server took but did not answer may have forked a worker that parlab
        // cannot name: the server is then killed (`broken`), and such a worker sees its input
        // close as `pending` is dropped here, and exits.
        let (why, broken) = stopped.unwrap_or_default();
        answers.resize_with(faults.len(), || Err(why.clone()));
        (answers, broken)
    }
}

/// Why a request did not go out.
enum Refused {
    /// This process could not make the worker's pipes: a limit, named in the message.
    Local(String),
    /// The socket refused it.
    Server(Errno),
}

/// Sends one request for a worker that injects `fault`, without blocking: `Ok(None)` when the
/// socket is full, else parlab's ends of the worker's pipes.
/// `workers` is how many the run asks for, to say what they need when a limit is hit.
fn request(
    socket: BorrowedFd<'_>,
    fault: Option<Fault>,
    workers: usize,
) -> Result<Option<(File, File)>, Refused> {
    let local = |e| {
        Refused::Local(format!(
            "creating its pipes: {}",
            limits::explain(e, workers)
        ))
    };
    let (parts_in, parts_out) = pipe2(OFlag::O_CLOEXEC).map_err(local)?;
    let (answers_in, answers_out) = pipe2(OFlag::O_CLOEXEC).map_err(local)?;
    let message = format!("S{}", fault.map(|f| f.to_string()).unwrap_or_default());
    let fds = [parts_in.as_raw_fd(), answers_out.as_raw_fd()];
    match sendmsg::<()>(
        socket.as_raw_fd(),
        &[IoSlice::new(message.as_bytes())],
        &[ControlMessage::ScmRights(&fds)],
        MsgFlags::MSG_NOSIGNAL | MsgFlags::MSG_DONTWAIT,
        None,
    ) {
        // The server holds its own copies now.
        Ok(_) => Ok(Some((File::from(parts_out), File::from(answers_in)))),
        // Full, or interrupted: tried again once poll says there is room.
        Err(Errno::EAGAIN | Errno::EINTR) => Ok(None),
        Err(e) => Err(Refused::Server(e)),
    }
}

/// Receives one message within `limit`; returns its length (see [`read_message`]).
fn receive(
    socket: BorrowedFd<'_>,
    buf: &mut [u8],
    limit: Duration,
    child: Option<&mut Child>,
) -> Result<usize, String> {
    let deadline = Instant::now() + limit;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("did not answer within {limit:?}"));
        }
        let ms = u16::try_from(left.as_millis()).unwrap_or(u16::MAX);
        let mut fds = [PollFd::new(socket, PollFlags::POLLIN)];
        match poll(&mut fds, PollTimeout::from(ms)) {
            Ok(0) | Err(Errno::EINTR) => continue,
            Ok(_) => break,
            Err(e) => return Err(format!("could not be polled: {e}")),
        }
    }
    read_message(socket, buf, child)
}

/// Reads one message that `poll` said is there; returns its length. With `child`, a closed
/// socket is explained by the server's exit status.
fn read_message(
    socket: BorrowedFd<'_>,
    buf: &mut [u8],
    child: Option<&mut Child>,
) -> Result<usize, String> {
    let mut iov = [IoSliceMut::new(buf)];
    let msg = recvmsg::<()>(socket.as_raw_fd(), &mut iov, None, MsgFlags::MSG_DONTWAIT)
        .map_err(|e| format!("could not be read: {e}"))?;
    let n = msg.bytes;
    if msg.flags.contains(MsgFlags::MSG_TRUNC) {
        return Err(format!("sent a message longer than {} bytes", buf.len()));
    }
    if n == 0 {
        let how = child
            .and_then(|c| {
                // Give an exiting server a moment to become reapable.
                let until = Instant::now() + Duration::from_millis(200);
                loop {
                    match c.try_wait() {
                        Ok(Some(status)) => break Some(status.to_string()),
                        Ok(None) if Instant::now() < until => {
                            std::thread::sleep(Duration::from_millis(5))
                        }
                        _ => break None,
                    }
                }
            })
            .unwrap_or_else(|| "closed its socket".into());
        return Err(format!("ended: {how}"));
    }
    Ok(n)
}

/// A server launch: the command, and where to send the started process.
type Launch = (Command, mpsc::Sender<std::io::Result<Child>>);

/// Starts `cmd` from the launcher thread, which lives as long as the process (see the module
/// documentation: the servers and their workers die when that thread ends).
fn launch(cmd: Command) -> std::io::Result<Child> {
    static LAUNCHER: Mutex<Option<mpsc::Sender<Launch>>> = Mutex::new(None);
    let mut launcher = LAUNCHER.lock().unwrap_or_else(PoisonError::into_inner);
    if launcher.is_none() {
        let (tx, rx) = mpsc::channel::<Launch>();
        // Started once; refused, the error (named as a limit by the caller) starts nothing.
        std::thread::Builder::new()
            .name("parlab-forkserver".into())
            .spawn(move || {
                for (mut cmd, reply) in rx {
                    let _ = reply.send(cmd.spawn());
                }
            })?;
        *launcher = Some(tx);
    }
    let (tx, rx) = mpsc::channel();
    let sent = launcher.as_ref().is_some_and(|l| l.send((cmd, tx)).is_ok());
    if !sent {
        return Err(std::io::Error::other("the launcher thread is gone"));
    }
    rx.recv()
        .unwrap_or_else(|_| Err(std::io::Error::other("the launcher thread is gone")))
}
