//! Discovery on fake interpreters: shell scripts in temporary folders that answer the seed
//! script's `info` as a given version would, with PATH and pyenv's root pointed at them.

use super::*;
use std::os::unix::fs::PermissionsExt;

/// A temporary folder, removed at the end of the test.
struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Dir {
        let d = std::env::temp_dir().join(format!("parlab-discover-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        Dir(d)
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn write_exe(path: &Path, body: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A fake interpreter of `version` at `path`, reporting `exe` as its real path.
fn fake(path: &Path, version: &str, free_threaded: bool, exe: &str) {
    let info = format!(
        r#"{{"version": "{version}", "implementation": "CPython", "executable": "{exe}", "gil_enabled": {gil}, "free_threaded": {free_threaded}, "start_method": "fork", "subinterpreters": null}}"#,
        gil = !free_threaded
    );
    write_exe(
        path,
        &format!("[ \"$2\" = info ] && echo '{info}' && exit 0\necho crash >&2; exit 1"),
    );
}

/// Opening a just-written script may meet ETXTBSY while another test's fork holds it open:
/// retry for a moment.
fn resolve_retrying(specs: &[InterpreterSpec], places: &Places) -> Result<Found> {
    for _ in 0..50 {
        match resolve(specs, places) {
            Err(e) if e.to_string().contains("busy") => {
                std::thread::sleep(std::time::Duration::from_millis(20))
            }
            other => return other,
        }
    }
    resolve(specs, places)
}

/// A PATH folder and a pyenv root: 2.7 and 3.12 in pyenv, 3.12 again on the PATH (the same
/// real path), a free-threaded 3.13t and a broken python3.9 on the PATH, and a shim that
/// exits 127.
fn world(name: &str) -> (Dir, Places) {
    let d = Dir::new(name);
    let bin = d.0.join("bin");
    let root = d.0.join("pyenv");
    fake(
        &root.join("versions/2.7.18/bin/python"),
        "2.7.18",
        false,
        "/v/2.7",
    );
    fake(
        &root.join("versions/3.12.1/bin/python"),
        "3.12.1",
        false,
        "/v/3.12",
    );
    fake(&bin.join("python3.12"), "3.12.1", false, "/v/3.12");
    fake(&bin.join("python3.13t"), "3.13.0", true, "/v/3.13t");
    write_exe(
        &bin.join("python3.9"),
        "echo 'Segmentation fault' >&2; exit 139",
    );
    write_exe(
        &bin.join("python3.8"),
        "echo 'pyenv: python3.8: command not found' >&2; exit 127",
    );
    write_exe(&bin.join("pythonista"), "exit 1");
    let places = Places {
        path: Some(bin.into_os_string()),
        pyenv_root: Some(root),
    };
    (d, places)
}

fn versions(found: &Found) -> Vec<(String, bool)> {
    found
        .pythons
        .iter()
        .map(|(p, named)| (p.version.clone(), *named))
        .collect()
}

#[test]
fn specs_are_all_versions_or_programs() {
    assert_eq!(InterpreterSpec::parse("all").unwrap(), InterpreterSpec::All);
    assert_eq!(
        InterpreterSpec::parse("3.13t").unwrap(),
        InterpreterSpec::Version {
            prefix: "3.13".into(),
            free_threaded: true
        }
    );
    assert_eq!(
        InterpreterSpec::parse("2.7").unwrap(),
        InterpreterSpec::Version {
            prefix: "2.7".into(),
            free_threaded: false
        }
    );
    assert_eq!(
        InterpreterSpec::parse("python3.12").unwrap(),
        InterpreterSpec::Program("python3.12".into())
    );
    assert_eq!(
        InterpreterSpec::parse("/usr/bin/python3").unwrap(),
        InterpreterSpec::Program("/usr/bin/python3".into())
    );
    assert!(InterpreterSpec::parse("").unwrap_err().is_usage());
    assert_eq!(InterpreterSpec::parse_list("2.7,all").unwrap().len(), 2);
}

#[test]
fn interpreter_names_are_recognised() {
    for yes in [
        "python2.7",
        "python3",
        "python3.12",
        "python3.13t",
        "python2",
    ] {
        assert!(is_python_name(yes), "{yes}");
    }
    for no in [
        "python",
        "python3-config",
        "python3.12-gdb.py",
        "pythonista",
        "python3t",
        "python4.1",
    ] {
        assert!(!is_python_name(no), "{no}");
    }
}

#[test]
fn all_finds_each_interpreter_once_in_version_order_with_notes() {
    let (_d, places) = world("all");
    let found = resolve_retrying(&[InterpreterSpec::All], &places).unwrap();
    assert_eq!(
        versions(&found),
        [
            ("2.7.18".to_string(), false),
            ("3.12.1".to_string(), false),
            ("3.13.0t".to_string(), false)
        ]
    );
    let ft = &found.pythons[2].0;
    assert!(ft.info.free_threaded && !ft.info.gil_enabled);
    // The crashing python3.9 is noted; the 127 shim is not.
    assert_eq!(found.notes.len(), 1, "{:?}", found.notes);
    assert!(
        found.notes[0].contains("python3.9 left out")
            && found.notes[0].contains("Segmentation fault")
    );
}

#[test]
fn versions_pick_one_interpreter_and_free_threading_must_match() {
    let (_d, places) = world("versions");
    let found =
        resolve_retrying(&InterpreterSpec::parse_list("3.13t,2.7").unwrap(), &places).unwrap();
    assert_eq!(
        versions(&found),
        [("3.13.0t".to_string(), true), ("2.7.18".to_string(), true)]
    );
    let err = resolve_retrying(&[InterpreterSpec::parse("3.13").unwrap()], &places).unwrap_err();
    assert!(err.is_usage());
    let err = resolve_retrying(&[InterpreterSpec::parse("9.9").unwrap()], &places).unwrap_err();
    let text = err.to_string();
    assert!(err.is_usage(), "{text}");
    assert!(
        text.contains("9.9") && text.contains("2.7.18") && text.contains("3.13.0t"),
        "{text}"
    );
}

#[test]
fn a_named_program_must_exist_and_run_as_python() {
    let (d, places) = world("programs");
    for bad in ["/no/such/python", "/bin/false", "python3.9", "nosuchpython"] {
        let err = resolve_retrying(&[InterpreterSpec::parse(bad).unwrap()], &places).unwrap_err();
        assert!(err.is_usage(), "{bad}: {err}");
        assert!(err.to_string().contains(bad), "{err}");
    }
    let by_name =
        resolve_retrying(&[InterpreterSpec::parse("python3.12").unwrap()], &places).unwrap();
    assert_eq!(versions(&by_name), [("3.12.1".to_string(), true)]);
    // The same interpreter twice, by two paths, is one.
    let twice = format!("{},3.12", d.0.join("bin/python3.12").display());
    let found = resolve_retrying(&InterpreterSpec::parse_list(&twice).unwrap(), &places).unwrap();
    assert_eq!(found.pythons.len(), 1);
}

#[test]
fn hanging_candidates_cost_one_short_bound_together_and_are_noted() {
    let d = Dir::new("hanging");
    let bin = d.0.join("bin");
    fake(&bin.join("python3.12"), "3.12.1", false, "/v/3.12");
    // Three programs that never answer: asked one after another at the run limit they would
    // take 15 minutes, asked at once within the short bound some 10 s.
    for name in ["python3.7", "python3.8", "python3.9"] {
        write_exe(&bin.join(name), "exec sleep 600");
    }
    let places = Places {
        path: Some(bin.into_os_string()),
        pyenv_root: None,
    };
    let t0 = std::time::Instant::now();
    let found = resolve_retrying(&[InterpreterSpec::All], &places).unwrap();
    let took = t0.elapsed();
    assert_eq!(versions(&found), [("3.12.1".to_string(), false)]);
    assert!(
        took < 3 * crate::cpython::INFO_LIMIT - std::time::Duration::from_secs(5),
        "{took:?}"
    );
    assert_eq!(found.notes.len(), 3, "{:?}", found.notes);
    for note in &found.notes {
        assert!(note.contains("killed after 10s"), "{note}");
    }
}
