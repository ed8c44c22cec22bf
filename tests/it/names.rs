//! One name per concept: no type name is defined in two files of src/ (`scripts/type-names.sh`
//! finds them), and the script finds the duplicates it is meant to.

use std::path::Path;
use std::process::Command;

/// Runs scripts/type-names.sh over `src`: its exit status and what it printed.
fn type_names(src: &Path) -> (bool, String) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new("sh")
        .arg(root.join("scripts/type-names.sh"))
        .arg(src)
        .output()
        .unwrap();
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn no_type_name_is_defined_in_two_files() {
    let (ok, listed) = type_names(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        ok && listed.is_empty(),
        "type names defined in two files:\n{listed}"
    );
}

#[test]
fn the_script_lists_a_name_defined_in_two_files() {
    let dir = std::env::temp_dir().join(format!("parlab-names-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let src = dir.as_path();
    let write = |path: &str, text: &str| {
        let path = src.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write(
        "a.rs",
        "pub struct Report {}\npub(crate) enum Mode { A }\nstruct Local;\n",
    );
    write("b/mod.rs", "pub struct Report {}\nstruct Local;\n");
    write(
        "b/c.rs",
        "    pub(crate) enum Mode { B }\npub trait Alone {}\n",
    );
    // One item per build: a feature's enabled.rs and disabled.rs count as one file.
    write("gpu/enabled.rs", "pub struct Gpu;\n");
    write("gpu/disabled.rs", "pub struct Gpu;\n");
    let (ok, listed) = type_names(src);
    assert!(!ok);
    let s = |p: &str| src.join(p).display().to_string();
    assert_eq!(
        listed,
        format!(
            "Mode: {} {}\nReport: {} {}\n",
            s("a.rs"),
            s("b/c.rs"),
            s("a.rs"),
            s("b/mod.rs")
        )
    );

    std::fs::remove_file(src.join("b/mod.rs")).unwrap();
    std::fs::remove_file(src.join("b/c.rs")).unwrap();
    assert_eq!(type_names(src), (true, String::new()));
    std::fs::remove_dir_all(&dir).unwrap();
}
