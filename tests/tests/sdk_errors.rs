//! The Python and JavaScript SDKs, through real components built from source by
//! their build commands: whatever the author's code does — returns outputs,
//! raises an unexpected exception, lets a cloud error through, catches a typed
//! one, is denied — the operator sees a clear result of the right kind, never a
//! bare trap.

use scope_host::grants::Policy;
use scope_host_tests::polyglot::{component, Language};
use scope_host_tests::{run_file, Data, Ran};

const PYTHON_GUEST: &str = "tests/guests/python/sdk-behaviour";
const JS_GUEST: &str = "tests/guests/js/sdk-behaviour";

/// What a mode must end in: `ok` with outputs, or a failure kind with a message.
enum Expect {
    Ok(&'static [(&'static str, &'static str)]),
    Failed(&'static str, &'static str),
}

/// A secret parameter of the built context: the host redacts its value everywhere.
const SECRET: &str = "hunter2-very-secret";

async fn run_mode(language: Language, mode: &'static str) -> Ran {
    let plugin = component(language, if language == Language::Python { PYTHON_GUEST } else { JS_GUEST });
    let cloud = std::fs::read_to_string(scope_host_tests::fixture("cloud.json")).unwrap();
    let data = Data {
        assume: None,
        context: serde_json::json!({"parameters": {"results": [
            {"variable": "DB_PASSWORD", "secret": true, "values": [{"value": SECRET}]}]}}),
        providers: vec![],
        cloud: serde_json::from_str(&cloud).unwrap(),
        vars: vec![("MODE", mode.to_owned())],
    };
    run_file(&plugin, "sdk-behaviour", data, Policy::allow_all()).await
}

fn check(language: Language, mode: &str, ran: &Ran, expect: &Expect) {
    let context = format!("{language:?} {mode}: {:#?}\nlog:\n{}", ran.report, ran.sink.text());
    assert!(
        !matches!(ran.failure_kind(), "panic" | "trap"),
        "an SDK step never ends in a bare trap: {context}"
    );
    match expect {
        Expect::Ok(outputs) => {
            assert!(ran.report.succeeded(), "{context}");
            for (name, value) in *outputs {
                assert_eq!(ran.output(name), *value, "{context}");
            }
        }
        Expect::Failed(kind, message) => {
            assert_eq!(ran.failure_kind(), *kind, "{context}");
            let got = &ran.report.failure.as_ref().unwrap().message;
            assert!(got.contains(message), "`{got}` lacks `{message}`\n{context}");
        }
    }
}

/// Modes both SDKs share, with the same outcome.
fn shared_cases() -> Vec<(&'static str, Expect)> {
    vec![
        (
            "missing-input",
            Expect::Failed("invalid-input", "invalid input: variable NOT_GIVEN is required but not set"),
        ),
        (
            "uncaught-cloud-error",
            Expect::Failed(
                "cloud",
                "lambda GetFunction failed: ResourceNotFoundException: Function not found: arn:aws:lambda:us-east-1:123456789012:function:absent-function (request id sim-req-",
            ),
        ),
        (
            "denied",
            Expect::Failed("denied", "denied: iam:GetRole on arn:aws:iam::123456789012:role/lambda-exec"),
        ),
        ("step-failed", Expect::Failed("failed", "the deployment window is closed")),
    ]
}

async fn check_all(language: Language, cases: Vec<(&'static str, Expect)>) {
    for (mode, expect) in cases {
        let ran = run_mode(language, mode).await;
        check(language, mode, &ran, &expect);
    }
}

#[tokio::test]
async fn python_exceptions_become_clear_step_failures() {
    let mut cases = shared_cases();
    cases.extend([
        (
            "unexpected-exception",
            Expect::Failed("failed", "KeyError: 'owner' (at app.py:8, in owner_of)"),
        ),
        (
            "caught-cloud-error",
            Expect::Ok(&[
                ("CODE", "ResourceNotFoundException"),
                ("KIND", "not-found"),
                ("OPERATION", "GetFunction"),
                ("RETRYABLE", "False"),
            ]),
        ),
        ("not-a-string", Expect::Failed("failed", "output COUNT is int; outputs are strings")),
        ("exit", Expect::Failed("failed", "SystemExit: 4")),
    ]);
    check_all(Language::Python, cases).await;
}

#[tokio::test]
async fn javascript_throws_become_clear_step_failures() {
    let mut cases = shared_cases();
    cases.extend([
        (
            "unexpected-exception",
            Expect::Failed(
                "failed",
                "TypeError: can't access property \"toUpperCase\", tags.owner is undefined (at app.js:7, in ownerOf)",
            ),
        ),
        (
            "caught-cloud-error",
            Expect::Ok(&[
                ("CODE", "ResourceNotFoundException"),
                ("KIND", "not-found"),
                ("OPERATION", "GetFunction"),
                ("RETRYABLE", "false"),
            ]),
        ),
        ("not-a-string", Expect::Failed("failed", "output COUNT is not a string")),
        (
            "not-an-error",
            Expect::Failed("failed", "threw a string, not an Error: a bare string"),
        ),
    ]);
    check_all(Language::Js, cases).await;
}

#[tokio::test]
async fn an_unexpected_exception_logs_where_it_came_from() {
    let python = run_mode(Language::Python, "unexpected-exception").await;
    let log = python.sink.text();
    assert!(
        log.contains("Traceback (most recent call last)") && log.contains("in owner_of") && log.contains("KeyError: 'owner'"),
        "{log}"
    );
    assert!(!log.contains("scope_step/"), "the SDK's own frames are left out: {log}");

    let js = run_mode(Language::Js, "unexpected-exception").await;
    let log = js.sink.text();
    // Lines of the author's files, not of the bundle the build made.
    assert!(
        log.contains("error TypeError") && log.contains("at ownerOf (app.js:7)") && log.contains("(app.js:"),
        "{log}"
    );
    assert!(!log.contains("step.js") && !log.contains("scope-step/"), "{log}");

    // A deliberate failure is the message alone, without a stack.
    for language in [Language::Python, Language::Js] {
        let ran = run_mode(language, "denied").await;
        let log = ran.sink.text();
        assert!(log.contains("caught the denial of iam:GetRole"), "{log}");
        assert!(!log.contains("Traceback") && !log.contains("    at "), "{log}");
    }
}

#[tokio::test]
async fn a_secret_in_an_exception_is_redacted_from_the_failure_and_the_log() {
    for language in [Language::Python, Language::Js] {
        let ran = run_mode(language, "leak-secret").await;
        assert_eq!(ran.failure_kind(), "failed", "{language:?}: {:#?}", ran.report);
        let message = &ran.report.failure.as_ref().unwrap().message;
        assert!(message.contains("cannot connect with password"), "{language:?}: {message}");
        let everything = format!("{message}\n{}\n{}", ran.sink.text(), ran.journal_text());
        assert!(!everything.contains(SECRET), "{language:?} leaked the secret:\n{everything}");
        assert!(
            ran.sink.text().contains("cannot connect with password"),
            "the traceback was logged, redacted"
        );
    }
}

#[tokio::test]
async fn helpers_read_the_run_and_mark_secret_outputs() {
    for language in [Language::Python, Language::Js] {
        let ran = run_mode(language, "outputs").await;
        check(
            language,
            "outputs",
            &ran,
            &Expect::Ok(&[("STEP", "sdk-behaviour"), ("VARS", "MODE"), ("TOKEN", "tok-0123456789")]),
        );
        let token = ran.report.outputs.iter().find(|o| o.name == "TOKEN").unwrap();
        assert!(token.secret, "{language:?}: secret_output marks the output secret");
    }
}

#[tokio::test]
async fn a_javascript_check_returns_its_verdict_or_a_clear_failure() {
    let plugin = component(Language::Js, "tests/guests/js/check-verdict");
    let run = |mode: &'static str| {
        let plugin = plugin.clone();
        async move {
            let data = Data {
                assume: None,
                context: serde_json::json!({}),
                providers: vec![],
                cloud: serde_json::json!({"account_id": "123456789012", "region": "us-east-1"}),
                vars: vec![("MODE", mode.to_owned())],
            };
            run_file(&plugin, "check-verdict", data, Policy::allow_all()).await
        }
    };
    let ran = run("fail").await;
    let check = ran.report.check.clone().unwrap_or_else(|| panic!("{:#?}", ran.report));
    assert_eq!(check.status, "fail");
    assert_eq!(check.summary, "alias main points to a missing version");
    assert_eq!(
        check.evidence,
        vec![("alias".to_owned(), "main".to_owned()), ("version".to_owned(), "7".to_owned())]
    );
    assert_eq!(check.suggested_actions, vec!["publish version 7 again"]);

    for (mode, message) in [
        (
            "bogus-status",
            "TypeError: verdict status 'broken' is not one of pass, fail, warning, skipped",
        ),
        (
            "not-a-verdict",
            "TypeError: a check returns verdict(status, summary, evidence, suggestedActions)",
        ),
    ] {
        let ran = run(mode).await;
        assert_eq!(ran.failure_kind(), "failed", "{mode}: {:#?}", ran.report);
        let got = &ran.report.failure.as_ref().unwrap().message;
        assert!(got.contains(message), "{mode}: `{got}` lacks `{message}`");
    }
}

/// A copy of `folder` (relative to the repository) with `append` added to its
/// entry file, and what building it printed.
fn build_broken(language: Language, folder: &str, entry: &str, append: &str) -> (tempfile::TempDir, std::process::Output) {
    let copy = tempfile::tempdir().unwrap();
    let source = scope_host_tests::polyglot::repo().join(folder);
    for file in std::fs::read_dir(&source).unwrap().flatten() {
        if file.path().is_file() {
            std::fs::copy(file.path(), copy.path().join(file.file_name())).unwrap();
        }
    }
    let path = copy.path().join(entry);
    let mut text = std::fs::read_to_string(&path).unwrap();
    text.push_str(append);
    std::fs::write(&path, text).unwrap();
    let out = scope_host_tests::polyglot::run_build(language, copy.path(), &copy.path().join("out.wasm"));
    (copy, out)
}

/// A syntax error is reported at the author's file and line, in a few lines, not as
/// a traceback inside the toolchain's sandbox (`/0/app.py`) or a Node stack.
#[test]
fn a_syntax_error_names_the_authors_file_and_line() {
    let (copy, out) = build_broken(
        Language::Python,
        "plugins/examples/python/tag-compliance",
        "app.py",
        "\ndef broken(:\n    pass\n",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let lines = std::fs::read_to_string(copy.path().join("app.py")).unwrap().lines().count();
    assert!(
        // The file and line are ours; the wording and column are the Python version's.
        err.contains(&format!("{}:{}:", copy.path().join("app.py").display(), lines - 1)),
        "{err}"
    );
    assert!(!err.contains("/0/") && err.lines().count() <= 4, "{err}");

    let (copy, out) = build_broken(
        Language::Js,
        "plugins/examples/js/deployed-version",
        "app.js",
        "\nfunction broken( {\n",
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("bundling") && err.contains("app.js:") && err.contains("function broken( {"),
        "{err}"
    );
    assert!(!err.contains("node_modules") && !err.contains("    at "), "no Node stack: {err}");
    drop(copy);
}
