//! `scope-host new` and docs/first-step.md as a third party meets them. For each
//! language, the guide's three commands, exactly as the guide writes them, run by a
//! shell in a temporary folder outside the repository, with `scope-host` on PATH as an
//! installed binary would be and nothing else pointing into the repository: the
//! project must build and its scenarios pass. Then a check project of the same
//! language, and the refusals of bad input.
//!
//! A Python or JS build takes 20–30 s, a first Rust build 20–60 s: the three languages
//! are separate tests, so the harness runs them side by side. Each test gets a compile
//! cache of its own, in its temporary folder: a componentize-py or componentize-js
//! build is not reproducible (the build's paths land in the component), so a shared
//! cache would only grow by ~35 MB per component and run, with no hit; within a test
//! the cache still serves `scope-host test` what `plugin pack` compiled.

use scope_host_tests::polyglot::repo;
use scope_host_tests::{binary, output_text, scope_host_command, target_dir};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

/// The sh block of docs/first-step.md after `<!-- first-step: <lang> -->`, one command a line.
fn guide_commands(lang: &str) -> Vec<String> {
    let guide = std::fs::read_to_string(repo().join("docs/first-step.md")).unwrap();
    let marker = format!("<!-- first-step: {lang} -->\n```sh\n");
    let start = guide
        .find(&marker)
        .unwrap_or_else(|| panic!("docs/first-step.md has no `{marker}` block"))
        + marker.len();
    let block = &guide[start..start + guide[start..].find("```").unwrap()];
    block.lines().map(str::to_owned).collect()
}

/// A temporary folder outside the repository, as a user's would be.
fn outside_the_repository() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let repo = repo().canonicalize().unwrap();
    assert!(
        !dir.path().canonicalize().unwrap().starts_with(&repo),
        "{} is inside the repository: set TMPDIR elsewhere",
        dir.path().display()
    );
    dir
}

/// The environment of a user of an installed scope-host, in `home` (a test's temporary
/// folder): `scope-host` on PATH, no variable pointing at the repository's tools, and
/// scope-host's cache and run records kept in `home`.
fn as_a_user(cmd: &mut Command, home: &Path, path: &str) {
    for variable in [
        "SCOPE_HOST",
        "SCOPE_STEP_WIT",
        "COMPONENTIZE_PY",
        "COMPONENTIZE_JS_DIR",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "SERVICE_PATH",
        "AWS_PROFILE",
    ] {
        cmd.env_remove(variable);
    }
    cmd.env("PATH", path)
        .env("SCOPE_HOST_CACHE", home.join("compile-cache"))
        .env("SCOPE_HOST_STATE", home.join("state"));
}

/// PATH with the built scope-host first, as if it were installed.
fn path_with_scope_host() -> String {
    let bin = binary().parent().unwrap().canonicalize().unwrap();
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default())
}

/// Runs `line` with sh in `dir`, as a user would type it; prints how long it took.
fn type_in(dir: &Path, line: &str, extra_env: &[(&str, &Path)]) -> Output {
    let mut cmd = Command::new("sh");
    cmd.arg("-c").arg(line).current_dir(dir);
    as_a_user(&mut cmd, dir, &path_with_scope_host());
    for (name, value) in extra_env {
        cmd.env(name, value);
    }
    let started = Instant::now();
    let out = cmd.output().unwrap();
    eprintln!("$ {line}   ({:.1} s)", started.elapsed().as_secs_f64());
    assert!(out.status.success(), "`{line}` failed ({}):\n{}", out.status, output_text(&out));
    out
}

/// The scenarios in a project's scenario file.
fn scenario_count(file: &Path) -> usize {
    let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&std::fs::read_to_string(file).unwrap()).unwrap();
    doc["scenarios"].as_sequence().map(Vec::len).unwrap_or(0)
}

/// What `scope-host test`'s last line must be for every scenario of `file` to pass.
fn all_passed(file: &Path) -> String {
    let n = scenario_count(file);
    assert!(n >= 2, "{} has {n} scenario(s); the template teaches with more", file.display());
    format!("{n} passed, 0 failed")
}

fn last_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().to_owned()
}

/// The manifest `plugin inspect` reads from a built plugin.
fn inspected_manifest(plugin: &Path, home: &Path) -> serde_json::Value {
    let mut cmd = Command::new(binary());
    as_a_user(&mut cmd, home, &path_with_scope_host());
    let out = cmd.args(["plugin", "inspect", "--json"]).arg(plugin).output().unwrap();
    assert!(out.status.success(), "plugin inspect {}: {}", plugin.display(), output_text(&out));
    serde_json::from_slice::<serde_json::Value>(&out.stdout).unwrap()["manifest"].clone()
}

/// The toolchain the Python and JS builds find beside the binary (target/guest-tools).
fn require_guest_tools(lang: &str) {
    let stamp = target_dir().join(format!("guest-tools/{lang}.stamp"));
    assert!(
        stamp.exists(),
        "{} is missing: run scripts/guest-tools (scripts/test does)",
        stamp.display()
    );
}

/// Runs the guide's three commands for `lang` and checks what the user sees and what
/// was built; returns the folder they ran in (removed when dropped) and the project.
fn follow_the_guide(lang: &str) -> (tempfile::TempDir, PathBuf) {
    let commands = guide_commands(lang);
    assert_eq!(commands.len(), 3, "the guide promises three commands for {lang}: {commands:?}");
    let words: Vec<&str> = commands[0].split_whitespace().collect();
    let [program, "new", name, "--lang", language] = words[..] else {
        panic!("the first command creates the project: {}", commands[0]);
    };
    assert_eq!((program, language), ("scope-host", lang), "{}", commands[0]);
    assert_eq!(commands[1], format!("{name}/build.sh"));
    assert_eq!(commands[2], format!("scope-host test {name}/tests/{name}.yaml"));

    let home = outside_the_repository();
    let mut outputs = commands.iter().map(|line| type_in(home.path(), line, &[])).collect::<Vec<_>>();
    let project = home.path().join(name);
    let scenarios = project.join(format!("tests/{name}.yaml"));
    let expected = all_passed(&scenarios);
    let test_run = outputs.pop().unwrap();
    assert_eq!(last_line(&test_run), expected, "{}", output_text(&test_run));
    let guide = std::fs::read_to_string(repo().join("docs/first-step.md")).unwrap();
    assert!(
        guide.contains(&format!("\n{expected}\n")),
        "the guide shows the last line as the user will see it: {expected}"
    );

    let manifest = inspected_manifest(&project.join(format!("target/{name}.wasm")), home.path());
    assert_eq!(manifest["name"], name);
    assert_eq!(manifest["kind"], "step");
    assert_eq!(manifest["contract"], scope_host::bindings::CONTRACT_VERSION);
    assert_eq!(manifest["inputs"][0]["name"], "LAMBDA_FUNCTION_NAME");
    assert_eq!(manifest["inputs"][0]["required"], true);
    let outputs: Vec<&str> = manifest["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    assert_eq!(outputs, ["FUNCTION_ARN", "FUNCTION_STATE"]);
    assert_eq!(
        manifest["capabilities"],
        serde_json::json!([{"action": "lambda:GetFunction", "resource": "arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}"}])
    );
    (home, project)
}

/// `scope-host new <name> --lang <lang> --kind check`, its build and its scenarios.
fn check_project(home: &Path, lang: &str, extra_env: &[(&str, &Path)]) {
    let name = format!("{lang}-check");
    type_in(home, &format!("scope-host new {name} --lang {lang} --kind check"), &[]);
    type_in(home, &format!("{name}/build.sh"), extra_env);
    let out = type_in(home, &format!("scope-host test {name}/tests/{name}.yaml"), &[]);
    let scenarios = home.join(format!("{name}/tests/{name}.yaml"));
    assert_eq!(last_line(&out), all_passed(&scenarios), "{}", output_text(&out));
    let manifest = inspected_manifest(&home.join(format!("{name}/target/{name}.wasm")), home);
    assert_eq!(
        (manifest["name"].as_str(), manifest["kind"].as_str()),
        (Some(name.as_str()), Some("check"))
    );
}

#[test]
fn the_guide_in_rust_builds_and_tests_a_step_then_a_check() {
    let (home, project) = follow_the_guide("rust");
    // The lock written by `new` already fits the crate: cargo had nothing to change.
    let lock = std::fs::read_to_string(project.join("Cargo.lock")).unwrap();
    let mut fresh = scope_host_command();
    let again = home.path().join("again");
    let out = fresh
        .args(["new", "hello-rust", "--lang", "rust", "--dir"])
        .arg(&again)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", output_text(&out));
    assert_eq!(
        lock,
        std::fs::read_to_string(again.join("Cargo.lock")).unwrap(),
        "cargo rewrote the lock"
    );
    // CARGO_TARGET_DIR is honoured: the check shares the step's compiled dependencies.
    check_project(home.path(), "rust", &[("CARGO_TARGET_DIR", &project.join("target"))]);
}

#[test]
fn the_guide_in_python_builds_and_tests_a_step_then_a_check() {
    require_guest_tools("py");
    let (home, _) = follow_the_guide("python");
    check_project(home.path(), "python", &[]);
}

#[test]
fn the_guide_in_js_builds_and_tests_a_step_then_a_check() {
    require_guest_tools("js");
    let (home, _) = follow_the_guide("js");
    check_project(home.path(), "js", &[]);
}

#[test]
fn the_guide_states_the_toolchain_pins_the_sdks_use() {
    let guide = std::fs::read_to_string(repo().join("docs/first-step.md")).unwrap();
    let pin = std::fs::read_to_string(repo().join("sdk/python/toolchain.txt")).unwrap();
    assert!(
        guide.contains(&format!("pip install {}", pin.trim())),
        "docs/first-step.md should say `pip install {}`",
        pin.trim()
    );
    let version = pin.trim().split_once("==").unwrap().1;
    assert!(
        guide.contains(&format!("componentize-py {version}")),
        "docs/first-step.md should name componentize-py {version}"
    );
}

// Refusals and what `new` prints. Nothing here builds.

/// `scope-host new <args>` in `dir`.
fn new_in(dir: &Path, args: &[&str]) -> Output {
    scope_host_command().arg("new").args(args).current_dir(dir).output().unwrap()
}

fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn new_refuses_a_folder_that_is_not_empty_and_leaves_it_alone() {
    let home = outside_the_repository();
    std::fs::create_dir(home.path().join("hello")).unwrap();
    std::fs::write(home.path().join("hello/notes.txt"), "mine").unwrap();
    let out = new_in(home.path(), &["hello", "--lang", "python"]);
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(
        output_text(&out).contains("error: hello already exists and is not empty: choose another name or --dir, or remove it"),
        "{}",
        output_text(&out)
    );
    assert_eq!(entries(&home.path().join("hello")), ["notes.txt"]);

    std::fs::write(home.path().join("a-file"), "").unwrap();
    let out = new_in(home.path(), &["hello", "--lang", "js", "--dir", "a-file"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        output_text(&out).contains("a-file exists and is not a folder"),
        "{}",
        output_text(&out)
    );
}

#[test]
fn new_refuses_a_bad_name_suggesting_a_good_one_and_writes_nothing() {
    let home = outside_the_repository();
    for (name, lang, message) in [
        (
            "Hello World",
            "python",
            "`Hello World` cannot name a step: use lowercase letters, digits, `-` or `_`, e.g. `hello-world`",
        ),
        ("step.v2", "js", "e.g. `step-v2`"),
        (
            "9lives",
            "rust",
            "`9lives` cannot name a Rust step: a Rust package's name starts with a letter",
        ),
        ("test", "rust", "cargo reserves it"),
        ("wit-bindgen", "rust", "the SDK depends on a crate of that name"),
    ] {
        let out = new_in(home.path(), &[name, "--lang", lang]);
        assert_eq!(out.status.code(), Some(2), "{name}: {}", output_text(&out));
        assert!(output_text(&out).contains(message), "{name}: {}", output_text(&out));
    }
    assert!(entries(home.path()).is_empty(), "{:?}", entries(home.path()));
    // What cargo refuses is fine for a Python step.
    let out = new_in(home.path(), &["9lives", "--lang", "python"]);
    assert!(out.status.success(), "{}", output_text(&out));
}

#[test]
fn new_refuses_an_unknown_language_or_kind_naming_the_ones_there_are() {
    let home = outside_the_repository();
    let out = new_in(home.path(), &["hello", "--lang", "go"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        output_text(&out).contains("invalid value 'go' for '--lang <LANG>'"),
        "{}",
        output_text(&out)
    );
    assert!(
        output_text(&out).contains("[possible values: rust, python, js]"),
        "{}",
        output_text(&out)
    );
    let out = new_in(home.path(), &["hello", "--lang", "rust", "--kind", "job"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        output_text(&out).contains("[possible values: step, check]"),
        "{}",
        output_text(&out)
    );
    let out = new_in(home.path(), &["hello"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(output_text(&out).contains("--lang <LANG>"), "{}", output_text(&out));
    assert!(entries(home.path()).is_empty());
}

#[test]
fn new_fills_an_empty_folder_and_prints_the_commands_to_run_from_here() {
    let home = outside_the_repository();
    std::fs::create_dir_all(home.path().join("steps/tagger")).unwrap();
    let out = new_in(home.path(), &["tagger", "--lang", "javascript", "--dir", "steps/tagger"]);
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("created tagger: a JavaScript step in steps/tagger"), "{text}");
    assert!(
        text.contains("\n  steps/tagger/build.sh\n  scope-host test steps/tagger/tests/tagger.yaml\n"),
        "{text}"
    );
    assert!(
        text.contains("npm ci --prefix scope-step/sdk/js/toolchain"),
        "the build's needs: {text}"
    );
    assert_eq!(
        entries(&home.path().join("steps/tagger")),
        [".gitignore", "README.md", "app.js", "build.sh", "scope-step", "step.toml", "tests"]
    );
}

#[test]
fn new_copies_the_repository_sdk_and_contract_byte_for_byte() {
    let home = outside_the_repository();
    for (lang, sdk) in [("rust", "plugins/sdk/src"), ("python", "sdk/python"), ("js", "sdk/js")] {
        let out = new_in(home.path(), &[&format!("copy-{lang}"), "--lang", lang]);
        assert!(out.status.success(), "{}", output_text(&out));
        let vendored = home.path().join(format!("copy-{lang}/scope-step"));
        let into = match lang {
            "rust" => vendored.join("sdk/rust/src"),
            _ => vendored.join(format!("sdk/{lang}")),
        };
        for (from, to) in [(repo().join("wit"), vendored.join("wit")), (repo().join(sdk), into)] {
            for file in files_under(&from) {
                let copy = to.join(file.strip_prefix(&from).unwrap());
                assert_eq!(
                    std::fs::read(&file).unwrap(),
                    std::fs::read(&copy).unwrap_or_default(),
                    "{} differs from {}",
                    copy.display(),
                    file.display()
                );
                #[cfg(unix)]
                {
                    use std::os::unix::fs::PermissionsExt;
                    let exec = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o100 != 0;
                    assert_eq!(exec(&file), exec(&copy), "the executable bit of {}", copy.display());
                }
            }
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if name == "node_modules" || name == "__pycache__" {
            continue;
        }
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

#[test]
fn a_build_without_its_toolchain_says_how_to_install_it() {
    // An installed scope-host outside any checkout (no guest-tools beside it), and a
    // PATH holding only the interpreters: the builds stop before compiling anything.
    let home = outside_the_repository();
    let bin = home.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let wrapper = bin.join("scope-host");
    std::fs::write(
        &wrapper,
        format!("#!/bin/sh\nexec '{}' \"$@\"\n", binary().canonicalize().unwrap().display()),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
        for tool in ["python3", "node"] {
            let found = Command::new("sh").args(["-c", &format!("command -v {tool}")]).output().unwrap();
            let found = PathBuf::from(String::from_utf8_lossy(&found.stdout).trim());
            // pyenv and nvm shims find tools by PATH themselves: link the real interpreter.
            let real = match tool {
                "python3" => {
                    let exe = Command::new(&found)
                        .args(["-c", "import sys; print(sys.executable)"])
                        .output()
                        .unwrap();
                    PathBuf::from(String::from_utf8_lossy(&exe.stdout).trim())
                }
                _ => found.canonicalize().unwrap(),
            };
            std::os::unix::fs::symlink(real, bin.join(tool)).unwrap();
        }
    }
    let path = format!("{}:/usr/bin:/bin", bin.display());
    for (lang, message) in [
        ("python", "error: componentize-py not found: install it with `pip install -r "),
        ("js", "error: componentize-js and rolldown not found in "),
    ] {
        let name = format!("bare-{lang}");
        let out = new_in(home.path(), &[&name, "--lang", lang]);
        assert!(out.status.success(), "{}", output_text(&out));
        let mut build = Command::new(home.path().join(&name).join("build.sh"));
        as_a_user(&mut build, home.path(), &path);
        let out = build.output().unwrap();
        let text = output_text(&out);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(text.contains(message), "{text}");
        let install = match lang {
            "python" => format!("{name}/scope-step/sdk/python/toolchain.txt`"),
            _ => format!(
                "npm ci --prefix {}",
                home.path().join(&name).join("scope-step/sdk/js/toolchain").display()
            ),
        };
        assert!(text.contains(&install), "{text}");
        assert!(text.contains("scripts/guest-tools"), "{text}");
    }
}

#[test]
fn new_help_teaches_with_examples() {
    let out = scope_host_command().args(["new", "--help"]).output().unwrap();
    let text = output_text(&out);
    assert!(out.status.success(), "{text}");
    for part in [
        "scope-host new hello --lang python",
        "--kind check",
        "hello/build.sh",
        "scope-host test hello/tests/hello.yaml",
        "docs/first-step.md",
        "[possible values: rust, python, js]",
    ] {
        assert!(text.contains(part), "`{part}` in:\n{text}");
    }
}
