//! The command line as clap sees it: plain strings, no I/O, no library types.

use clap::{Args, Parser, Subcommand};

/// Run one CPU-bound job split into parts on interchangeable backends, check every answer,
/// and measure how each scales.
#[derive(Debug, Parser)]
#[command(name = "parlab", version, arg_required_else_help = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run one job on one backend (defaults: the seed experiment, count 0..1e8).
    Run(RunArgs),
    /// Run every backend at several worker counts and both splits against the sequential
    /// answer; exit 1 on any mismatch.
    Verify(VerifyArgs),
    /// Reproduce the seed experiment: published figures, real CPython, the GIL models and
    /// parlab's backends side by side.
    Reproduce(ReproduceArgs),
    /// Benchmark a job across backends, worker counts, kernels and sizes: statistics,
    /// speedup with confidence intervals, exports and plots.
    Bench(Box<BenchArgs>),
    /// Measure what threads and processes cost on this machine: spawn, switch, fork-rss,
    /// message, memory (all by default), beside each CPython that --python names (python3 if found).
    Probe(ProbeArgs),
    /// Measure your own Python function, FUNCTION(start, end) -> int or (with --items)
    /// FUNCTION(item), on threads, processes and subinterpreters against one thread, check
    /// every answer, and recommend a road.
    Python(PythonFnArgs),
    /// Serve parts as a worker process of the processes backend (internal).
    #[command(name = "__worker", hide = true)]
    Worker,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Kernel: count, sum, primes, pi, collatz, sleep[:DURATION].
    #[arg(short, long, default_value = "count", allow_hyphen_values = true)]
    pub kernel: String,
    /// Half-open range START..END; numbers like 1e8, 100_000_000 or 100M.
    #[arg(
        short,
        long,
        default_value = "0..100000000",
        allow_hyphen_values = true
    )]
    pub range: String,
    /// Split: static (one equal part per worker) or chunks:SIZE (dynamic).
    #[arg(short, long, default_value = "static", allow_hyphen_values = true)]
    pub split: String,
    /// Backend: sequential, threads, pool, processes, gil, gil-legacy, mpi (under mpirun; the
    /// `mpi` feature), gpu (the `gpu` feature).
    #[arg(short, long, default_value = "threads", allow_hyphen_values = true)]
    pub backend: String,
    /// Number of workers (default: the available parallelism; under mpi, the ranks; for gpu,
    /// only the parts of a static split: the adapter sizes the dispatches, and consecutive
    /// parts share submissions and read-backs whatever their number).
    #[arg(short, long, allow_hyphen_values = true)]
    pub workers: Option<String>,
    #[command(flatten)]
    pub settings: BackendArgs,
    /// Fail a part that runs longer than this (e.g. 2s, 500ms); default: no limit.
    #[arg(long, allow_hyphen_values = true)]
    pub timeout: Option<String>,
    /// Run a failed or timed-out part again on a fresh worker, up to this many times.
    #[arg(long, default_value = "0", allow_hyphen_values = true)]
    pub retries: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Kernels, comma-separated (default: all).
    #[arg(short, long, value_delimiter = ',', allow_hyphen_values = true)]
    pub kernel: Vec<String>,
    /// Range for every kernel (default: a few milliseconds of work per kernel).
    #[arg(short, long, allow_hyphen_values = true)]
    pub range: Option<String>,
    /// Backends, comma-separated (default: all).
    #[arg(short, long, value_delimiter = ',', allow_hyphen_values = true)]
    pub backend: Vec<String>,
    /// Worker counts, comma-separated (for gpu: only the parts of a static split).
    #[arg(
        short,
        long,
        value_delimiter = ',',
        default_value = "1,2,3,8",
        allow_hyphen_values = true
    )]
    pub workers: Vec<String>,
    /// Splits, comma-separated (default: static and chunks of about 1/64 of the range).
    #[arg(short, long, value_delimiter = ',', allow_hyphen_values = true)]
    pub split: Vec<String>,
    /// Print one JSON object per case instead of a table.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub settings: BackendArgs,
    /// Show every column of the table, however wide (by default the columns that do not fit
    /// the terminal, or $COLUMNS, are left out and named under the table).
    #[arg(long)]
    pub wide: bool,
}

#[derive(Debug, Args)]
pub struct ReproduceArgs {
    /// A smaller job (0..1e7) and shorter probes: about 20 s instead of about 90 s on 2 CPUs.
    #[arg(long)]
    pub quick: bool,
    #[command(flatten)]
    pub python: PythonArgs,
    /// CPython's processes rows: the multiprocessing start method, fork, forkserver or spawn.
    /// Default: each interpreter's own (forkserver on Linux from 3.14, fork before), the one a
    /// ProcessPoolExecutor gets.
    #[arg(long, value_name = "METHOD", allow_hyphen_values = true)]
    pub python_start: Option<String>,
    #[command(flatten)]
    pub settings: BackendArgs,
    /// Print one JSON object instead of tables.
    #[arg(long)]
    pub json: bool,
    /// Show every column of the tables, however wide (by default the columns that do not fit
    /// the terminal, or $COLUMNS, are left out and named under the table).
    #[arg(long)]
    pub wide: bool,
}

#[derive(Debug, Args)]
pub struct ProbeArgs {
    /// Probes to run (default: all): spawn, switch, fork-rss, message, memory.
    pub probes: Vec<String>,
    /// Fewer repetitions and smaller sizes: under 10 seconds.
    #[arg(long)]
    pub quick: bool,
    #[command(flatten)]
    pub python: PythonArgs,
    /// Write fork-rss latency against parent memory as an SVG plot.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<String>,
    /// Print one JSON array of reports instead of tables.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Backends, comma-separated.
    #[arg(
        short,
        long,
        value_delimiter = ',',
        default_value = "sequential,threads,pool,processes",
        allow_hyphen_values = true
    )]
    pub backend: Vec<String>,
    /// Worker counts, comma-separated (default: 1, 2, 4, ... up to twice the CPUs; for gpu,
    /// only the parts of a static split: the adapter sizes and batches the dispatches).
    #[arg(short, long, value_delimiter = ',', allow_hyphen_values = true)]
    pub workers: Vec<String>,
    /// Kernels, comma-separated.
    #[arg(
        short,
        long,
        value_delimiter = ',',
        default_value = "count",
        allow_hyphen_values = true
    )]
    pub kernel: Vec<String>,
    /// Ranges (job sizes), comma-separated.
    #[arg(
        short,
        long,
        value_delimiter = ',',
        default_value = "0..1e8",
        allow_hyphen_values = true
    )]
    pub range: Vec<String>,
    /// Split for every job.
    #[arg(short, long, default_value = "static", allow_hyphen_values = true)]
    pub split: String,
    /// Unmeasured rounds first.
    #[arg(long, default_value = "1", allow_hyphen_values = true)]
    pub warmup: String,
    /// Measured rounds; every cell runs once per round (default: at least 5, then more until
    /// --precision is met). Given alone, exactly this many.
    #[arg(long, allow_hyphen_values = true)]
    pub runs: Option<String>,
    /// Add rounds until every speedup's 95% interval is within this (e.g. 5%, or "off")
    /// [default: 5% unless --runs is given].
    #[arg(long, allow_hyphen_values = true)]
    pub precision: Option<String>,
    /// Start no round after this long once --runs rounds ran (e.g. 30s) [default: 30s].
    #[arg(long, allow_hyphen_values = true)]
    pub max_time: Option<String>,
    /// Keep measuring until every cell has run at least this long in total (e.g. 2s).
    #[arg(long, allow_hyphen_values = true)]
    pub min_time: Option<String>,
    /// Fail a run that takes longer than this (it is reported and the benchmark goes on).
    #[arg(long, allow_hyphen_values = true)]
    pub timeout: Option<String>,
    #[command(flatten)]
    pub settings: BackendArgs,
    /// The MPI launcher and its flags, for --backend mpi: each run is `MPIRUN -n W parlab run`.
    #[arg(long, default_value = "mpirun", allow_hyphen_values = true)]
    pub mpirun: String,
    /// Write the report as JSON (schema: docs/bench-json.md), rewritten as the benchmark goes.
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<String>,
    /// Write one CSV row per cell.
    #[arg(long, value_name = "FILE")]
    pub export_csv: Option<String>,
    /// Write a Markdown table.
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<String>,
    /// Write a self-contained HTML report (machine, table, plot).
    #[arg(long, value_name = "FILE")]
    pub export_html: Option<String>,
    /// Write the speedup plot as SVG.
    #[arg(long, value_name = "FILE.svg")]
    pub plot: Option<String>,
    /// Compare with a report saved by --export-json: every cell also in it gets its change in
    /// median wall time, with a 95% interval.
    #[arg(long, value_name = "OLD.json")]
    pub baseline: Option<String>,
    /// With --baseline: exit 1 when a cell's change interval lies wholly above this slowdown
    /// (e.g. 20%); a cell whose interval holds it is reported as "maybe".
    #[arg(long, value_name = "PCT", allow_hyphen_values = true)]
    pub fail_if_slower: Option<String>,
    /// No progress bar.
    #[arg(short, long)]
    pub quiet: bool,
    /// Show every column of the table, however wide (by default the columns that do not fit
    /// the terminal, or $COLUMNS, are left out and named under the table).
    #[arg(long)]
    pub wide: bool,
}

#[derive(Debug, Args)]
pub struct PythonFnArgs {
    /// The function: FILE:FUNCTION, called as FUNCTION(start, end) for each half-open part and
    /// returning that part's int; with --items, as FUNCTION(item), returning any value.
    #[arg(value_name = "FILE:FUNCTION")]
    pub target: String,
    /// Map mode: the items, handed out in chunks: a range of ints (0..1000), FILE:ITEMS (a
    /// list, or a function returning an iterable, in a Python file) or a text file of one str
    /// item a line.
    #[arg(long, value_name = "SOURCE", allow_hyphen_values = true)]
    pub items: Option<String>,
    /// Map mode: items per chunk, comma-separated for several (each its own rows); default:
    /// about four chunks per worker.
    #[arg(
        long,
        value_name = "N[,N...]",
        value_delimiter = ',',
        allow_hyphen_values = true
    )]
    pub chunksize: Vec<String>,
    /// Map mode: the most items taken from SOURCE; one more is refused (an endless iterator?).
    #[arg(long, default_value = "1000000", allow_hyphen_values = true)]
    pub max_items: String,
    /// Range mode: half-open ranges START..END cut into parts, comma-separated: several (in
    /// growing size) find the smallest at which a parallel road beats one thread; the last is
    /// recommended for.
    #[arg(
        short,
        long,
        value_delimiter = ',',
        default_value = "0..1e6",
        conflicts_with = "items",
        allow_hyphen_values = true
    )]
    pub range: Vec<String>,
    /// Worker counts, comma-separated.
    #[arg(
        short,
        long,
        value_delimiter = ',',
        default_value = "1,2,4",
        allow_hyphen_values = true
    )]
    pub workers: Vec<String>,
    /// Roads beside the sequential baseline: parlab's own threads, processes, subinterpreters
    /// (CPython 3.12+), and the standard library's executors executor:thread,
    /// executor:process and executor:interpreter (3.14+), driven as your code would drive them
    /// (a road an interpreter lacks is left out with a note). Default: all of them.
    #[arg(long, allow_hyphen_values = true)]
    pub roads: Option<String>,
    /// executor:process's start method: fork, forkserver or spawn. Default: each interpreter's
    /// own (forkserver on Linux from 3.14, fork before), named in the report.
    #[arg(long, value_name = "METHOD", allow_hyphen_values = true)]
    pub start: Option<String>,
    /// Range mode: the split, static (one equal part per worker) or chunks:SIZE.
    #[arg(
        short,
        long,
        default_value = "static",
        conflicts_with = "items",
        allow_hyphen_values = true
    )]
    pub split: String,
    /// Interpreters, comma-separated: a path or program name, a version (3.12, 3.13t) or all.
    #[arg(long, value_name = "SPEC[,SPEC...]", default_value = "python3")]
    pub python: String,
    /// Unmeasured rounds first.
    #[arg(long, default_value = "1", allow_hyphen_values = true)]
    pub warmup: String,
    /// Measured rounds.
    #[arg(long, default_value = "5", allow_hyphen_values = true)]
    pub runs: String,
    /// Fail a part that runs longer than this (e.g. 2s): its process is killed, for threads
    /// the interpreter running them; none: no limit. Default: each run may take 10 times the
    /// sequential run, or 10 s, whichever is longer.
    #[arg(long, allow_hyphen_values = true)]
    pub timeout: Option<String>,
    /// Run a failed part again on a fresh worker (threads, subinterpreters: the whole run on
    /// a fresh interpreter), up to this many times.
    #[arg(long, default_value = "0", allow_hyphen_values = true)]
    pub retries: String,
    /// Print one JSON object instead of text.
    #[arg(long)]
    pub json: bool,
    /// Write the JSON object to a file ('-': standard output, the table then goes to standard
    /// error).
    #[arg(long, value_name = "FILE")]
    pub export_json: Option<String>,
    /// Write one CSV row per road, worker count, range and interpreter.
    #[arg(long, value_name = "FILE")]
    pub export_csv: Option<String>,
    /// Write the table and the recommendation as Markdown.
    #[arg(long, value_name = "FILE")]
    pub export_markdown: Option<String>,
    /// No progress line.
    #[arg(short, long)]
    pub quiet: bool,
}

/// Backend settings (the GIL models', the processes backend's), shared by `run`, `verify`,
/// `reproduce` and `bench`.
#[derive(Debug, Args)]
pub struct BackendArgs {
    /// gil: the switch interval, as CPython's sys.setswitchinterval (e.g. 5ms, 100us).
    #[arg(long, default_value = "5ms", allow_hyphen_values = true)]
    pub switch_interval: String,
    /// gil-legacy: Python 2 ticks (bytecodes) between releases, as sys.setcheckinterval.
    #[arg(long, default_value = "100", allow_hyphen_values = true)]
    pub check_interval: String,
    /// processes: how workers start: forkserver (forked from one server process; the default on
    /// Linux) or spawn (the program executed once per worker).
    #[arg(long, allow_hyphen_values = true)]
    pub start: Option<String>,
}

/// Which CPython to run beside parlab, shared by `reproduce` and `probe`.
#[derive(Debug, Args)]
pub struct PythonArgs {
    /// Skip the CPython rows.
    #[arg(long)]
    pub no_python: bool,
    /// The Python interpreters to compare with, comma-separated: a path or program name, a
    /// version (2.7, 3.13, 3.13t for free-threaded) or all (every one on the PATH and in
    /// pyenv's versions folder). Default: python3 on the PATH.
    #[arg(long, value_name = "SPEC[,SPEC...]", conflicts_with = "no_python")]
    pub python: Option<String>,
}
