//! The documentation holds together: every relative link in README.md, BENCHMARKS.md and
//! docs/*.md points at a file that exists (and, into a Markdown file, at a heading it has), and
//! the README stays a page a newcomer reads in five minutes, with the two commands on its first
//! screen and its test command the one CI runs.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

/// The most lines README.md may have.
const README_MOST_LINES: usize = 200;
/// The two commands must be within this many lines of the top: a first screen.
const FIRST_SCREEN: usize = 60;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The documents whose links are checked, relative to the repository's root.
fn documents() -> Vec<PathBuf> {
    let mut docs = vec![PathBuf::from("README.md"), PathBuf::from("BENCHMARKS.md")];
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .map(|p| p.strip_prefix(root()).unwrap().to_path_buf())
        .collect();
    pages.sort();
    docs.extend(pages);
    docs
}

fn parser(text: &str) -> Parser<'_> {
    Parser::new_ext(text, Options::ENABLE_TABLES)
}

/// The anchors GitHub gives a document's headings: the heading's text in lower case, spaces
/// made hyphens, every other character but letters, digits, `-` and `_` dropped; a repeated
/// heading gets `-1`, `-2`, ...
fn anchors(text: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    let mut heading: Option<String> = None;
    for event in parser(text) {
        match event {
            Event::Start(Tag::Heading { .. }) => heading = Some(String::new()),
            Event::Text(t) | Event::Code(t) => {
                if let Some(h) = heading.as_mut() {
                    h.push_str(&t);
                }
            }
            Event::End(TagEnd::Heading(_)) => {
                let base = slug(&heading.take().unwrap());
                let mut anchor = base.clone();
                let mut n = 0;
                while seen.contains(&anchor) {
                    n += 1;
                    anchor = format!("{base}-{n}");
                }
                seen.insert(anchor);
            }
            _ => {}
        }
    }
    seen
}

fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// Every link and image target in `text`, outside code.
fn links(text: &str) -> Vec<String> {
    parser(text)
        .filter_map(|event| match event {
            Event::Start(Tag::Link { dest_url, .. } | Tag::Image { dest_url, .. }) => {
                Some(dest_url.to_string())
            }
            _ => None,
        })
        .collect()
}

/// What is wrong with each relative link of the document at `path` (relative to `root`),
/// whose text is `text`: one line per broken link.
fn broken_links(root: &Path, path: &Path, text: &str) -> Vec<String> {
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut broken = Vec::new();
    for link in links(text) {
        if link.contains("://") || link.starts_with("mailto:") {
            continue;
        }
        let (file, anchor) = match link.split_once('#') {
            Some((f, a)) => (f, Some(a)),
            None => (link.as_str(), None),
        };
        let target = if file.is_empty() {
            path.to_path_buf()
        } else {
            dir.join(file)
        };
        let full = root.join(&target);
        if !file.is_empty() && !full.exists() {
            broken.push(format!(
                "{}: {link}: no such file {}",
                path.display(),
                target.display()
            ));
            continue;
        }
        let Some(anchor) = anchor else { continue };
        if target.extension().is_none_or(|x| x != "md") {
            continue;
        }
        let target_text = if file.is_empty() {
            text.to_string()
        } else {
            std::fs::read_to_string(&full).unwrap()
        };
        if !anchors(&target_text).contains(anchor) {
            broken.push(format!(
                "{}: {link}: {} has no heading with the anchor #{anchor}",
                path.display(),
                target.display()
            ));
        }
    }
    broken
}

#[test]
fn anchors_are_made_from_headings_as_github_makes_them() {
    let text = "# `parlab run`: one job\n\n## Other interpreters: `--python`\n\n\
                ## Limits: 1 to 1024 workers (2026-11-26)\n\n## Notes\n\n## Notes\n\n\
                ```sh\n# not a heading\n```\n";
    let found = anchors(text);
    let want: HashSet<String> = [
        "parlab-run-one-job",
        "other-interpreters---python",
        "limits-1-to-1024-workers-2026-11-26",
        "notes",
        "notes-1",
    ]
    .map(String::from)
    .into();
    assert_eq!(found, want);
}

#[test]
fn a_missing_file_or_heading_is_reported_and_code_is_not_read_as_links() {
    let dir = std::env::temp_dir().join(format!("parlab-docs-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("docs")).unwrap();
    std::fs::write(dir.join("docs/page.md"), "# A page\n\n## Its part\n").unwrap();
    let text = "# Top\n\n[ok](docs/page.md) [ok](docs/page.md#its-part) [ok](#top) \
                [ok](https://example.com/x) ![ok](docs/page.md)\n\n\
                [gone](docs/gone.md) [bad anchor](docs/page.md#nope) [here](#nowhere)\n\n\
                `[code](not/a/link.md)`\n\n```text\n[code](not/a/link.md)\n```\n";
    let broken = broken_links(&dir, Path::new("README.md"), text);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(broken.len(), 3, "{broken:#?}");
    assert!(
        broken[0].contains("docs/gone.md: no such file"),
        "{}",
        broken[0]
    );
    assert!(
        broken[1].contains("no heading with the anchor #nope"),
        "{}",
        broken[1]
    );
    assert!(broken[2].contains("#nowhere"), "{}", broken[2]);
}

#[test]
fn every_relative_link_in_the_readme_and_docs_points_at_a_file_and_heading_that_exist() {
    let docs = documents();
    assert!(docs.len() > 10, "docs/ holds the reference: {docs:?}");
    let mut broken = Vec::new();
    for doc in &docs {
        let text = std::fs::read_to_string(root().join(doc)).unwrap();
        broken.extend(broken_links(root(), doc, &text));
    }
    assert!(broken.is_empty(), "broken links:\n{}", broken.join("\n"));
}

/// The first fenced block's first line after each line of README.md that ends with `intro`,
/// with the line number of that line (from 1).
fn command_after(readme: &str, intro: &str) -> Option<(usize, String)> {
    let lines: Vec<&str> = readme.lines().collect();
    let at = lines.iter().position(|l| l.trim_end().ends_with(intro))?;
    let fence = at + lines[at..].iter().position(|l| l.starts_with("```"))?;
    Some((fence + 2, lines.get(fence + 1)?.trim().to_string()))
}

#[test]
fn the_readme_stays_short_with_the_two_commands_on_its_first_screen() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let lines = readme.lines().count();
    assert!(
        lines < README_MOST_LINES,
        "README.md has {lines} lines; the reference belongs in docs/"
    );
    let (main_at, main) = command_after(
        &readme,
        "run the main job, the seed experiment side by side:",
    )
    .expect("README.md gives the main command");
    // It works in a fresh clone, before anything is installed.
    assert_eq!(main, "cargo run --release -- reproduce");
    let (test_at, test) =
        command_after(&readme, "Run the tests:").expect("README.md gives the test command");
    assert_eq!(test, "cargo test");
    for (what, at) in [("main command", main_at), ("test command", test_at)] {
        assert!(
            at <= FIRST_SCREEN,
            "the {what} is on line {at} of README.md, past its first {FIRST_SCREEN}"
        );
    }
    // The README's first heading of level 2 comes before the commands: "Install".
    let first_section = parser(&readme)
        .skip_while(|e| {
            !matches!(
                e,
                Event::Start(Tag::Heading {
                    level: HeadingLevel::H2,
                    ..
                })
            )
        })
        .find_map(|e| match e {
            Event::Text(t) => Some(t.to_string()),
            _ => None,
        });
    assert_eq!(first_section.as_deref(), Some("Install"));
}

#[test]
fn ci_runs_the_test_command_the_readme_gives() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let (_, test) = command_after(&readme, "Run the tests:").unwrap();
    let ci = std::fs::read_to_string(root().join(".ci/run")).unwrap();
    assert!(
        ci.lines().any(|l| l.trim() == test),
        ".ci/run does not run README.md's test command `{test}`"
    );
}
