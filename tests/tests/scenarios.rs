//! `scope-host test` as a user runs it: scenario files under tests/scenarios and
//! plugins/lambda/tests, the result lines, the differences printed for each kind of
//! failed expectation, secrets masked, bad input, and the exit codes.

use scope_host_tests::{builtin_dir, guest_dir, output_text, scope_host_command};
use std::path::PathBuf;
use std::process::Output;

fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios").join(name)
}

/// Runs `scope-host test` with the test guests and the built-in plugins as its
/// built-in plugin folders (the test guests are not built beside the binary's).
fn test(args: &[PathBuf], extra: &[&str]) -> Output {
    scope_host_command()
        .arg("test")
        .args(args)
        .args(extra)
        .env("SCOPE_HOST_PLUGINS", std::env::join_paths([guest_dir(), builtin_dir()]).unwrap())
        .output()
        .unwrap()
}

fn last_line(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().to_owned()
}

/// The lines of the output, each trimmed, for exact comparisons.
fn lines(out: &Output) -> Vec<String> {
    output_text(out).lines().map(|l| l.trim().to_owned()).collect()
}

/// `line` with each mask's hash left out (`[REDACTED:1a2b3c4d]` → `[REDACTED]`):
/// the hash is keyed per run.
fn unhashed(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(at) = rest.find(scope_host::redact::MASK_PREFIX) {
        out.push_str(&rest[..at]);
        out.push_str(scope_host::redact::MASK);
        let after = &rest[at..];
        rest = &after[after.find(']').map_or(after.len(), |e| e + 1)..];
    }
    out.push_str(rest);
    out
}

fn assert_has_lines(out: &Output, expected: &[&str]) {
    let have: Vec<String> = lines(out).iter().map(|l| unhashed(l)).collect();
    for want in expected {
        assert!(have.iter().any(|l| l == want), "missing line `{want}` in:\n{}", output_text(out));
    }
}

#[test]
fn passing_step_workflow_denial_and_check_scenarios_exit_0() {
    let out = test(&[scenario("passing.yaml")], &[]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    for name in [
        "publish-version on the fixture cloud returns the unchanged version",
        "a workflow passes on its declared outputs only",
        "a denial is expected",
        "a check's verdict",
    ] {
        let line = text
            .lines()
            .find(|l| l.contains(name))
            .unwrap_or_else(|| panic!("no line for `{name}`:\n{text}"));
        assert!(line.starts_with("ok      ") && line.ends_with(" ms)"), "{line}");
    }
    assert!(!text.contains("failures:"), "{text}");
    assert_eq!(last_line(&out), "4 passed, 0 failed");
}

#[test]
fn each_failed_expectation_prints_where_and_what_differs() {
    let out = test(&[scenario("failing.yaml")], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", output_text(&out));
    assert!(
        lines(&out)
            .iter()
            .any(|l| l.starts_with("FAILED  a failing step expected to succeed (")),
        "{}",
        output_text(&out)
    );
    let arn = "arn:aws:lambda:us-east-1:123456789012:function:11-my-app-my-scope";
    let publish = format!("lambda:PublishVersion on {arn} -> ok");
    let f = "cloud.lambda.functions";
    assert_has_lines(
        &out,
        &[
            "outcome: expected success, got failure (failed): boom happened",
            "outcome: expected failure, but the run succeeded",
            "error: expected the failure message to contain \"kaboom\", got \"boom happened\"",
            // Outputs: a different value, not JSON, absent, a JSON member; then the actual ones.
            "outputs.A: expected \"2\", got \"1\"",
            "outputs.B: expected JSON matching {\"k\":1}, got \"x\" (not JSON)",
            "outputs.C: expected \"3\", got no such output",
            "outputs.J.k: expected 2, got 1",
            "A = \"1\"",
            // Calls: the first difference of `ordered`, then every call made.
            "calls.ordered[0]: expected `lambda:PublishVersion`, got `sts:AssumeRole on arn:aws:iam::123456789012:role/np-lambda-agent -> ok`",
            "calls (3):",
            &format!("3. {publish}   (step publish)"),
            "calls.include[0]: no call matches `lambda:UpdateAlias`",
            &format!("calls.exclude[0]: `lambda:Publish*` matches call 1: `{publish}`"),
            "denied: expected a denial of `lambda:PublishVersion`, got none",
            // The cloud: each difference at its path, elements by name.
            &format!("{f}[name=11-my-app-my-scope].aliases[name=main].function_version: expected \"2\", got \"1\""),
            &format!("{f}[name=11-my-app-my-scope].memory_size: expected 512, got 256"),
            &format!("{f}[name=never-created]: missing (the list has name 11-my-app-my-scope, someone-elses-function)"),
            "logs[1]: no log line contains \"never said\"",
            "emit: info X=said",
            "steps.publish: expected ok, got skipped",
            "steps.nowhere: expected ok, got absent (the run's steps: assume_role, build, publish)",
            "the run ended in failure: step `assume_role` failed (failed): stop here",
            "check.status: expected fail, got pass",
            "check.summary: expected it to contain \"does not exist\", got \"function 11-my-app-my-scope exists\"",
        ],
    );
    // Expectations that held are not reported.
    assert!(!output_text(&out).contains("logs[0]"), "{}", output_text(&out));
    assert!(!output_text(&out).contains("steps.assume_role"), "{}", output_text(&out));
    assert_eq!(last_line(&out), "0 passed, 11 failed");
}

#[test]
fn ordered_calls_need_the_order_include_does_not() {
    let out = test(&[scenario("calls.yaml")], &[]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("ok      include takes the calls in any order"), "{text}");
    assert!(text.contains("FAILED  ordered needs them in the order they were made"), "{text}");
    assert!(
        text.contains("calls.ordered[0]: expected `lambda:PublishVersion`, got `sts:AssumeRole"),
        "{text}"
    );
    assert_eq!(last_line(&out), "1 passed, 1 failed");
}

#[test]
fn secrets_stay_masked_in_differences_outputs_and_logs() {
    let out = test(&[scenario("secrets.yaml")], &[]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for secret in ["tok-s3cr3t-value", "out-s3cr3t-value", "ctx-s3cr3t-password"] {
        assert!(!text.contains(secret), "`{secret}` leaked:\n{text}");
    }
    assert_has_lines(
        &out,
        &[
            "outputs.S: differs from the expected value (S is secret: values are not shown)",
            "outputs.SAW_TOKEN: expected \"something else\", got \"[REDACTED]\"",
            "S = [REDACTED]",
            "emit: info TOKEN=[REDACTED]",
            "cloud.lambda.functions[name=11-my-app-my-scope].environment.DB_PASSWORD: expected \"expected-password\", got \"[REDACTED]\"",
        ],
    );
    assert_eq!(last_line(&out), "0 passed, 2 failed");
}

#[test]
fn bad_input_exits_2_with_file_line_and_column_and_runs_nothing() {
    let unknown = scenario("bad/unknown-key.yaml");
    let cases = [
        (
            unknown.clone(),
            format!(
                "error: {}:5:7: scenarios[0].expect: unknown field `outptus`, expected one of `outcome`, `error`, `outputs`, `calls`, `denied`, `cloud`, `logs`, `steps`, `check`",
                unknown.display()
            ),
        ),
        (
            scenario("bad/wrong-type.yaml"),
            format!("{}:4:11: scenarios[0].vars: invalid type: sequence, expected a map", scenario("bad/wrong-type.yaml").display()),
        ),
        (
            scenario("bad/missing-plugin.yaml"),
            "scenario `a plugin nobody built`: plugin `no-such-plugin` not found".to_owned(),
        ),
        (scenario("bad/absent.yaml"), format!("reading {}", scenario("bad/absent.yaml").display())),
    ];
    for (file, want) in cases {
        // A good file beside the bad one does not run either.
        let out = test(&[scenario("passing.yaml"), file], &[]);
        let text = output_text(&out);
        assert_eq!(out.status.code(), Some(2), "{text}");
        assert!(text.contains(&want), "missing `{want}` in:\n{text}");
        assert!(text.contains("1 of 2 scenario file(s) cannot be run; nothing was run"), "{text}");
        assert!(!text.contains("running ") && !text.contains("passed"), "{text}");
    }
}

#[test]
fn filter_runs_the_scenarios_whose_name_matches() {
    let out = test(&[scenario("passing.yaml"), scenario("failing.yaml")], &["--filter", "denial"]);
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("ok      a denial is expected") && text.contains("FAILED  no denial met"),
        "{text}"
    );
    assert_eq!(last_line(&out), "1 passed, 1 failed");

    let out = test(&[scenario("passing.yaml")], &["--filter", "nothing like this"]);
    assert_eq!(out.status.code(), Some(2), "{}", output_text(&out));
    assert!(output_text(&out).contains("no scenario's name contains `nothing like this`"));
}

#[test]
fn the_lambda_scope_scenarios_pass() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../plugins/lambda/tests");
    let files = [dir.join("deployment.yaml"), dir.join("steps.yaml")];
    let out = test(&files, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_eq!(last_line(&out), "6 passed, 0 failed");
}

#[test]
fn timeout_stops_a_stuck_step() {
    let out = test(&[scenario("timeout.yaml")], &["--timeout", "1s"]);
    assert_eq!(out.status.code(), Some(0), "{}", output_text(&out));
    assert_eq!(last_line(&out), "1 passed, 0 failed");
}
