//! Every command a user copies from `scope-host --help` and from the README's blocks
//! marked `<!-- commands run by tests/tests/documented_commands.rs -->` runs, from
//! the repository's root, and succeeds. (docs/first-step.md's commands are run by
//! new_project.rs.) Examples must stay whole lines a shell accepts: a line wrapped
//! in the middle of a command would be run as two and fail here.

use scope_host_tests::{output_text, scope_host_command};
use std::path::{Path, PathBuf};

const MARKER: &str = "<!-- commands run by tests/tests/documented_commands.rs -->";

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Shell lines joined at trailing backslashes, comments and blank lines dropped.
fn commands(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        let line = line.split(" #").next().unwrap_or("").trim();
        if let Some(part) = line.strip_suffix('\\') {
            current.push_str(part.trim_end());
            current.push(' ');
            continue;
        }
        current.push_str(line);
        if !current.trim().is_empty() {
            out.push(current.trim().to_owned());
        }
        current.clear();
    }
    out
}

/// The commands of `scope-host --help`'s examples.
fn help_examples() -> Vec<String> {
    let out = scope_host_command().arg("--help").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    let start = help.find("Examples").expect("--help shows examples");
    let block: String = help[start..]
        .lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    commands(&block)
}

/// The commands of the README's marked sh blocks.
fn readme_commands() -> Vec<String> {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let mut found = Vec::new();
    for (at, _) in readme.match_indices(MARKER) {
        let rest = &readme[at + MARKER.len()..];
        let body = rest.trim_start().strip_prefix("```sh\n").expect("a marked block is an sh block");
        found.extend(commands(&body[..body.find("```").unwrap()]));
    }
    found
}

/// Runs one documented command with the built binary, from the repository's root;
/// `/tmp/` and `my-step` (what it writes) go to `scratch`.
fn run(command: &str, scratch: &Path) {
    // `target/…` is the repository's target folder, wherever CARGO_TARGET_DIR puts it.
    let target = scope_host_tests::target_dir();
    let words: Vec<String> = command
        .split_whitespace()
        .map(|w| match w.strip_prefix("target/") {
            Some(rest) if w != "target/debug/scope-host" => target.join(rest).display().to_string(),
            _ => w.replace("/tmp/", &format!("{}/", scratch.display())),
        })
        .collect();
    eprintln!("running: {command}");
    let (program, args) = words.split_first().unwrap();
    assert!(
        program == "scope-host" || program == "target/debug/scope-host",
        "a documented command that is not scope-host's: {command}"
    );
    let mut cmd = scope_host_command();
    cmd.current_dir(repo()).args(args);
    if args.first().map(String::as_str) == Some("new") {
        // `new` writes the project into the current folder.
        cmd.current_dir(scratch);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "`{command}` failed:\n{}", output_text(&out));
}

#[test]
fn every_command_in_help_and_the_readme_runs() {
    let help = help_examples();
    assert!(help.len() >= 6, "{help:#?}");
    let readme = readme_commands();
    assert!(readme.len() >= 3, "{readme:#?}");
    let scratch = tempfile::tempdir().unwrap();
    for command in help.iter().chain(&readme) {
        // The build itself is what the test binary stands on.
        if command.starts_with("cargo build") {
            continue;
        }
        run(command, scratch.path());
    }
}
