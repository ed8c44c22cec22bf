//! Command-line front end.
//!
//! Arguments are handled in two phases, as ripgrep does: clap turns the command line into
//! plain strings ([`args`]), then each command's arguments are converted once into its
//! library options (`BenchArgs::options` into `parlab::bench::BenchOptions`, and so on for
//! `reproduce`, `python`, `verify` and `run`), whose parse errors name the bad value and what
//! is allowed. The defaults are the library's (`BenchOptions::default()`); where clap shows a
//! default in `--help`, a test beside the conversion checks that it is the library's. Every
//! error is printed on one line; bad input exits with code 2, a failed run with code 1.

mod args;
mod bench;
mod probe;
mod python;
mod reproduce;
mod run;
mod verify;

use std::process::ExitCode;

use clap::error::ErrorKind;
use clap::{CommandFactory, FromArgMatches};

use args::{Cli, Command};

/// Exit code for bad input.
const EXIT_USAGE: u8 = 2;
/// Exit code for a run that failed or a verification that found a mismatch.
const EXIT_FAILURE: u8 = 1;

/// Parses the command line, runs it and maps errors to exit codes.
pub fn main() -> ExitCode {
    // Help is prose: wrapped to the width of standard output, at most 100 columns, in one
    // layout for every command (each option's help on the lines under it).
    let width = parlab::report::width::prose(parlab::report::width::of_stdout());
    let command = Cli::command().term_width(width).next_line_help(true);
    let cli = match command
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m))
    {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    // Ctrl-C and SIGTERM ask running jobs to stop; they stop their workers, and the error
    // says what had finished.
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        let _ =
            signal_hook::flag::register_usize(signal, parlab::interrupt::flag(), signal as usize);
    }
    let outcome = match cli.command {
        Command::Run(a) => run::run(a),
        Command::Verify(a) => verify::verify(a),
        Command::Reproduce(a) => reproduce::reproduce(a),
        Command::Probe(a) => probe::probe(a),
        Command::Bench(a) => bench::bench(*a),
        Command::Python(a) => python::python(a),
        Command::Worker => return ExitCode::from(parlab::worker::serve() as u8),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            // Output piped into a program that stopped reading (`| head`): end quietly, as
            // Unix tools do, with the status of a process killed by SIGPIPE.
            if e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::from(141);
            }
            // Errors quote what the user typed and what files held: shown, never obeyed.
            eprintln!("error: {}", shown(one_line(&chain(&e))));
            let error = e.downcast_ref::<parlab::Error>();
            // A failure that follows a stop asked for by Ctrl-C or SIGTERM (an export that
            // gave up waiting for its reader, a run cut short) ends as that signal would have.
            if let Some(signal) = error
                .and_then(parlab::Error::interrupted_by)
                .or_else(parlab::interrupt::requested)
            {
                return ExitCode::from(128 + signal as u8);
            }
            let usage = error.is_some_and(parlab::Error::is_usage);
            ExitCode::from(if usage { EXIT_USAGE } else { EXIT_FAILURE })
        }
    }
}

/// Help and version go to stdout as clap prints them; every other clap error becomes one line.
fn clap_error(e: clap::Error) -> ExitCode {
    match e.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = e.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = e.print();
            ExitCode::from(EXIT_USAGE)
        }
        _ => {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            eprintln!("error: {} (see 'parlab --help')", shown(first));
            ExitCode::from(EXIT_USAGE)
        }
    }
}

/// The error and its causes, `outer: cause: cause`, leaving out a cause the message already
/// ends with (parlab's errors show their source themselves, as `context: source`).
fn chain(e: &anyhow::Error) -> String {
    let mut text = e.to_string();
    for cause in e.chain().skip(1) {
        let cause = cause.to_string();
        if !text.ends_with(&cause) {
            text = format!("{text}: {cause}");
        }
    }
    text
}

/// `text` as printed: its control characters escaped, since messages quote what the user
/// typed and what files and programs said.
fn shown(text: impl std::fmt::Display) -> String {
    parlab::escape::controls(&text.to_string()).into_owned()
}

/// Joins a multi-line message into one line.
fn one_line(text: &str) -> String {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes `text` as a paragraph wrapped to `width` columns.
fn paragraph(out: &mut impl std::io::Write, text: &str, width: usize) -> std::io::Result<()> {
    write!(out, "{}", parlab::report::width::paragraph(text, width))
}

/// The columns that name a job's run, first in the tables of `verify` and `bench`; one that
/// holds the same cell in every row gives way first to fit the width (the note under the
/// table names its cell).
fn job_columns() -> [parlab::report::table::Column; 4] {
    use parlab::report::table::Column;
    [
        Column::left("kernel").min_width(14).constant(),
        Column::left("range").min_width(22).constant(),
        Column::left("backend").min_width(11).constant(),
        Column::right("workers").min_width(7).constant(),
    ]
}

/// `protected` and every interpreter of `pythons`: files a command runs, which no export may
/// replace.
fn protect_pythons(
    protected: parlab::report::output::Protected,
    pythons: &[(parlab::cpython::Python, bool)],
) -> parlab::report::output::Protected {
    pythons.iter().fold(protected, |p, (py, _)| {
        p.input(
            format!("the interpreter {} (--python)", py.program().display()),
            py.program(),
        )
    })
}

/// A line of progress on standard error that rewrites itself in place, shown only when standard
/// error is a terminal, and cleared when dropped.
struct StatusLine {
    live: bool,
}

impl StatusLine {
    fn new() -> StatusLine {
        use std::io::IsTerminal;
        StatusLine {
            live: std::io::stderr().is_terminal(),
        }
    }

    /// Shows `text` in place of the line before, cut to the terminal's width (a line longer
    /// than that would wrap, and the next one would not replace it).
    fn show(&self, text: &str) {
        use std::io::Write;
        if self.live {
            let room = parlab::report::width::of_stderr().saturating_sub(5);
            let text: String = text.chars().take(room).collect();
            eprint!("\r\x1b[2K{text} ...");
            let _ = std::io::stderr().flush();
        }
    }
}

impl Drop for StatusLine {
    fn drop(&mut self) {
        if self.live {
            eprint!("\r\x1b[2K");
        }
    }
}
