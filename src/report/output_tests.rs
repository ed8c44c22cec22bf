//! Tests of [`super::Output`]: files, links, FIFOs, devices, descriptors and `-`.

use super::*;

/// A fresh directory for one test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("parlab-output-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn parse(path: &Path) -> Output {
    Output::parse("export", path.to_str().unwrap()).unwrap()
}

#[test]
fn a_file_is_replaced_whole_keeps_its_mode_and_leaves_no_temporary() {
    let dir = scratch("file");
    let path = dir.join("a.txt");
    let out = parse(&path);
    assert_eq!(
        out,
        Output::File {
            named: path.clone(),
            target: path.clone()
        }
    );
    assert!(out.is_rewritable());
    out.write(b"one").unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    out.write(b"two").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"two");
    let mode = std::fs::metadata(&path).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the replaced file's mode was not kept");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_symlink_is_written_through_and_stays_a_link() {
    let dir = scratch("link");
    std::fs::create_dir(dir.join("results")).unwrap();
    let target = dir.join("results/today.json");
    std::fs::write(&target, b"old").unwrap();
    let link = dir.join("report.json");
    std::os::unix::fs::symlink("results/today.json", &link).unwrap();
    // A chain: a link to the link.
    let chain = dir.join("latest.json");
    std::os::unix::fs::symlink(&link, &chain).unwrap();
    for (name, body) in [(&link, &b"new"[..]), (&chain, &b"newer"[..])] {
        let out = parse(name);
        assert_eq!(out.name(), name.display().to_string());
        out.write(body).unwrap();
        let kind = std::fs::symlink_metadata(name).unwrap().file_type();
        assert!(kind.is_symlink(), "{name:?} was replaced");
        assert_eq!(std::fs::read(&target).unwrap(), body);
    }
    // Both lead to one file: two exports there would clobber each other.
    assert!(parse(&link).same_place(&parse(&chain)));
    assert!(parse(&link).same_place(&parse(&target)));
    // No temporary left beside the link or the target.
    assert_eq!(std::fs::read_dir(dir.join("results")).unwrap().count(), 1);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 3);
    // A dangling link: its target is created.
    let dangling = dir.join("next.json");
    std::os::unix::fs::symlink("results/next.json", &dangling).unwrap();
    parse(&dangling).write(b"x").unwrap();
    assert_eq!(std::fs::read(dir.join("results/next.json")).unwrap(), b"x");
    // A link into a directory that is gone: the error names the link and its target.
    let gone = dir.join("gone.json");
    std::os::unix::fs::symlink("results/later.json", &gone).unwrap();
    let out = parse(&gone);
    std::fs::remove_dir_all(dir.join("results")).unwrap();
    let e = out.write(b"x").unwrap_err().to_string();
    assert!(
        e.contains(gone.to_str().unwrap()) && e.contains("later.json") && e.contains("No such"),
        "{e}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_fifo_is_written_in_place_to_its_reader() {
    let dir = scratch("fifo");
    let fifo = dir.join("pipe");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let out = parse(&fifo);
    assert_eq!(out, Output::Special(fifo.clone()));
    assert!(!out.is_rewritable());
    assert!(out.same_place(&parse(&fifo)));
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read(fifo).unwrap())
    };
    out.write(b"{\"whole\": true}").unwrap();
    assert_eq!(reader.join().unwrap(), b"{\"whole\": true}");
    assert!(is_special(&fifo), "the FIFO was replaced");
    // A reader that comes later, and a document larger than the pipe's buffer: the write
    // waits for both.
    let big: Vec<u8> = (0..1_000_000u32).map(|i| i as u8).collect();
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            std::fs::read(fifo).unwrap()
        })
    };
    out.write(&big).unwrap();
    assert!(
        reader.join().unwrap() == big,
        "the reader got another document"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_descriptor_path_is_written_in_place() {
    // `/proc/self/fd/N` of a pipe (what `>(command)` and `/dev/stdout` lead to): the link's
    // target, "pipe:[…]", names no file, but the path opens the pipe.
    let (read, write) = nix::unistd::pipe().unwrap();
    let path = PathBuf::from(format!(
        "/proc/self/fd/{}",
        std::os::fd::AsRawFd::as_raw_fd(&write)
    ));
    let out = parse(&path);
    assert_eq!(out, Output::Special(path));
    out.write(b"through the descriptor").unwrap();
    drop(write);
    let mut got = String::new();
    std::io::Read::read_to_string(&mut std::fs::File::from(read), &mut got).unwrap();
    assert_eq!(got, "through the descriptor");
}

#[test]
fn a_device_that_fails_writes_is_an_error_and_stays_a_device() {
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: making a device node needs root");
        return;
    }
    let dir = scratch("dev");
    let full = dir.join("full");
    // The device /dev/full is: every write fails with ENOSPC.
    nix::sys::stat::mknod(
        &full,
        nix::sys::stat::SFlag::S_IFCHR,
        nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
        nix::sys::stat::makedev(1, 7),
    )
    .unwrap();
    let out = parse(&full);
    let e = out.write(b"data").unwrap_err().to_string();
    assert!(
        e.contains(full.to_str().unwrap()) && e.contains("No space left"),
        "{e}"
    );
    assert!(is_special(&full), "the device was replaced");
    // A device takes any number of writers.
    assert!(!out.same_place(&parse(&full)));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn dash_is_standard_output_and_bad_paths_are_bad_input() {
    assert_eq!(Output::parse("export", "-").unwrap(), Output::Stdout);
    assert_eq!(Output::Stdout.name(), "standard output");
    assert!(Output::Stdout.same_place(&Output::Stdout));
    assert!(!Output::Stdout.is_rewritable());
    let dir = scratch("bad");
    let socket = dir.join("sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    for bad in [
        String::new(),
        dir.to_str().unwrap().to_string(),
        dir.join("no/such/dir/x.json").to_str().unwrap().to_string(),
        socket.to_str().unwrap().to_string(),
    ] {
        let e = Output::parse("JSON export path", &bad).unwrap_err();
        assert!(e.is_usage(), "{bad}: {e}");
        assert!(e.to_string().contains(&format!("'{bad}'")), "{e}");
    }
    let looped = dir.join("loop");
    std::os::unix::fs::symlink(&looped, &looped).unwrap();
    let e = Output::parse("export", looped.to_str().unwrap()).unwrap_err();
    assert!(e.to_string().contains("symbolic links"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// True when `path` is a special file (FIFO, device, socket) once symlinks are followed.
fn is_special(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| {
        let t = m.file_type();
        t.is_fifo() || t.is_char_device() || t.is_block_device() || t.is_socket()
    })
}

#[test]
fn no_name_of_the_program_or_of_an_input_is_a_destination() {
    let dir = scratch("protected");
    let input = dir.join("base.json");
    std::fs::write(&input, b"{}").unwrap();
    let hard = dir.join("hard.json");
    std::fs::hard_link(&input, &hard).unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink("base.json", &link).unwrap();
    let protected = Protected::program().input("the baseline (--baseline)", &input);
    for name in [&input, &hard, &link] {
        let text = name.to_str().unwrap();
        let e = Output::parse_with("JSON export path", text, &protected).unwrap_err();
        assert!(e.is_usage(), "{e}");
        assert!(e.to_string().contains(&format!("'{text}'")), "{e}");
        assert!(e.to_string().contains("the baseline (--baseline)"), "{e}");
    }
    // The program this process runs, by any name, for every destination.
    let exe = std::env::current_exe().unwrap();
    for name in [exe.to_str().unwrap(), "/proc/self/exe"] {
        let e = Output::parse("plot path", name).unwrap_err();
        assert!(e.to_string().contains("parlab's own program"), "{e}");
    }
    // Another file of the directory, and a path that does not exist yet, are free.
    let other = dir.join("other.json");
    std::fs::write(&other, b"{}").unwrap();
    assert!(Output::parse_with("export", other.to_str().unwrap(), &protected).is_ok());
    assert!(Output::parse_with("export", dir.join("new").to_str().unwrap(), &protected).is_ok());
    assert_eq!(std::fs::read(&input).unwrap(), b"{}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_name_that_can_only_be_a_directory_is_refused_before_any_write() {
    let dir = scratch("slash");
    for tail in ["new.json/", "new.json/.", "new.json/..", "sub/."] {
        let text = format!("{}/{tail}", dir.display());
        let e = Output::parse("JSON export path", &text).unwrap_err();
        assert!(e.is_usage() && e.to_string().contains(&text), "{e}");
    }
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_longest_legal_name_is_written_and_its_temporary_is_short() {
    let dir = scratch("long");
    let name = "r".repeat(250) + ".json";
    let path = dir.join(&name);
    let out = parse(&path);
    out.write(b"long").unwrap();
    out.write(b"longer").unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"longer");
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
    let temp = temp_name(&path);
    assert!(temp.file_name().unwrap().len() < 80, "{}", temp.display());
    assert_ne!(
        temp,
        temp_name(&path),
        "two temporaries of one process share a name"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn two_names_of_one_file_are_one_place() {
    let dir = scratch("place");
    let a = dir.join("a.csv");
    std::fs::write(&a, b"a").unwrap();
    let hard = dir.join("b.csv");
    std::fs::hard_link(&a, &hard).unwrap();
    assert!(parse(&a).same_place(&parse(&hard)));
    // Not yet there: the same directory entry however the directory is named.
    let new = dir.join("new.csv");
    let dotted = dir.join(".").join("sub").join("..").join("new.csv");
    std::fs::create_dir(dir.join("sub")).unwrap();
    assert!(parse(&new).same_place(&parse(&dotted)));
    assert!(!parse(&new).same_place(&parse(&a)));
    std::fs::remove_dir_all(&dir).unwrap();
}
