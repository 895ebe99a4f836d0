//! Reporting to the platform through the host: a fake `np` CLI of the test's own
//! records every command and its environment, and runs of create, diagnose and a
//! deployment are held to the incumbent's exact commands and bodies — with the
//! platform's key in the host's environment and in no argument.

use scope_host_tests::{lambda_service, private_providers, scope_host_command};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Output;

/// The platform's key, as the agent would set it for the channel's command.
const KEY: &str = "np-key-7f3a9c2e51d84b06";

/// A fake `np`: appends `{"args": […], "key": …}` per call to `$FAKE_NP_LOG`,
/// keeps NRN metadata in `$FAKE_NP_LOG.state` so that `nrn read` answers what
/// `nrn patch` stored (keys `namespace.key`), and answers `{}` otherwise. With
/// `$FAKE_NP_FAIL` set, every command fails as the CLI does.
fn fake_np(dir: &Path) -> PathBuf {
    let path = dir.join("np");
    std::fs::write(
        &path,
        r#"#!/usr/bin/env python3
import json, os, sys
log = os.environ["FAKE_NP_LOG"]
with open(log, "a") as f:
    f.write(json.dumps({"args": sys.argv[1:], "key": os.environ.get("NP_API_KEY")}) + "\n")
if os.environ.get("FAKE_NP_FAIL"):
    sys.stderr.write("Error: 401 Unauthorized\n")
    sys.exit(1)
state_path = log + ".state"
state = json.load(open(state_path)) if os.path.exists(state_path) else {}
args = sys.argv[1:]
def arg(name):
    return args[args.index(name) + 1]
if args[:2] == ["nrn", "patch"]:
    state.setdefault(arg("--nrn"), {}).update(json.loads(arg("--body")))
    json.dump(state, open(state_path, "w"))
    print("{}")
elif args[:2] == ["nrn", "read"]:
    prefix = arg("--namespace") + "."
    stored = state.get(arg("--nrn"), {})
    print(json.dumps({k[len(prefix):]: v for k, v in stored.items() if k.startswith(prefix)}))
else:
    print("{}")
"#,
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    path
}

struct NpRun {
    out: Output,
    /// Every `np` call: its arguments and the key it found in its environment.
    calls: Vec<Value>,
    after: PathBuf,
    journal: Vec<Value>,
}

impl NpRun {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.out.stdout).into_owned()
    }
    fn text(&self) -> String {
        format!("{}{}", self.stdout(), String::from_utf8_lossy(&self.out.stderr))
    }
    fn args(&self) -> Vec<Vec<String>> {
        self.calls
            .iter()
            .map(|c| {
                c["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a.as_str().unwrap().to_owned())
                    .collect()
            })
            .collect()
    }
}

/// `scope-host handle` as the channel runs it, the notification in
/// NP_ACTION_CONTEXT, `--platform np` with the fake CLI.
fn run_np(dir: &Path, notification: &Value, state: &Path, providers: &Path, fail: bool) -> NpRun {
    let svc = lambda_service();
    let n = std::fs::read_dir(dir).unwrap().count();
    let (after, journal, log) = (
        dir.join(format!("after-{n}.json")),
        dir.join(format!("run-{n}.jsonl")),
        dir.join("np-calls.jsonl"),
    );
    let _ = std::fs::remove_file(&log);
    let mut cmd = scope_host_command();
    cmd.arg("handle")
        .arg(format!("--service-path={}", svc.display()))
        .args(["--platform", "np", "--np"])
        .arg(fake_np(dir))
        .arg("--providers")
        .arg(providers)
        .arg("--cloud-state")
        .arg(state)
        .arg("--dump-state")
        .arg(&after)
        .arg("--journal")
        .arg(&journal)
        .env_remove("SCOPE_HOST_PLUGINS")
        .env("NP_ACTION_CONTEXT", format!("'{notification}'"))
        .env("NP_API_KEY", KEY)
        .env("FAKE_NP_LOG", &log);
    if fail {
        cmd.env("FAKE_NP_FAIL", "1");
    }
    let out = cmd.output().unwrap();
    let calls = std::fs::read_to_string(&log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let journal = std::fs::read_to_string(&journal)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    NpRun {
        out,
        calls,
        after,
        journal,
    }
}

fn example(slug: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(lambda_service().join(format!("examples/notifications/{slug}.json"))).unwrap()).unwrap()
}

const NRN: &str = "organization=1:account=2:namespace=3:application=4:scope=11";

/// Whether the key appears in any argument of any call.
fn key_in_arguments(run: &NpRun) -> bool {
    run.args().iter().flatten().any(|a| a.contains(KEY))
}

#[test]
fn create_stores_the_rule_priority_and_the_domain_with_the_incumbents_commands() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut private = example("create-scope");
    private["context"]["scope"]["capabilities"]["visibility"] = json!("private");
    let cloud = lambda_service().join("examples/scope-cloud-state.json");
    let created = run_np(d, &private, &cloud, &private_providers(d), false);
    assert_eq!(created.out.status.code(), Some(0), "{}", created.text());
    assert_eq!(
        created.args(),
        [
            vec![
                "scope",
                "patch",
                "--id",
                "11",
                "--body",
                r#"{"domain":"my-namespace-my-app-my-scope.example.com"}"#,
                "--format",
                "json"
            ],
            vec!["nrn", "read", "--nrn", NRN, "--namespace", "lambda", "--format", "json"],
            vec![
                "nrn",
                "patch",
                "--nrn",
                NRN,
                "--body",
                r#"{"lambda.alb_rule_priority":1}"#,
                "--format",
                "json"
            ],
        ]
        .map(|c| c.into_iter().map(str::to_owned).collect::<Vec<_>>()),
        "the incumbent's commands, in order:\n{}",
        created.text()
    );
    // The CLI found the key where the host keeps it; no argument carried it.
    assert!(created.calls.iter().all(|c| c["key"] == KEY));
    assert!(!key_in_arguments(&created));
    // Each call is in the record, under the host's platform identity, not a role.
    let recorded: Vec<(&str, &str)> = created
        .journal
        .iter()
        .filter(|e| e["event"] == "call" && e["service"] == "platform")
        .map(|e| (e["operation"].as_str().unwrap(), e["identity"].as_str().unwrap()))
        .collect();
    assert_eq!(
        recorded,
        [
            ("PatchScope", "platform:np"),
            ("ReadMetadata", "platform:np"),
            ("PatchMetadata", "platform:np")
        ]
    );
    let journal_text = created.journal.iter().map(Value::to_string).collect::<String>();
    assert!(!journal_text.contains(KEY), "the key is not in the record");

    // Create again: the stored priority is read back and not written twice.
    let again = run_np(d, &private, &created.after, &private_providers(d), false);
    assert_eq!(again.out.status.code(), Some(0), "{}", again.text());
    assert!(again.args().iter().any(|a| a[..2] == ["nrn", "read"]), "{:?}", again.args());
    assert!(
        !again.args().iter().any(|a| a[..2] == ["nrn", "patch"]),
        "the priority is stored already: {:?}",
        again.args()
    );
}

#[test]
fn a_failing_platform_fails_the_step_that_needed_it_with_the_clis_words() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cloud = lambda_service().join("examples/scope-cloud-state.json");
    let providers = lambda_service().join("examples/providers.json");
    let run = run_np(d, &example("create-scope"), &cloud, &providers, true);
    assert_eq!(run.out.status.code(), Some(1), "{}", run.text());
    let text = run.text();
    assert!(text.contains("✘ ensure_dns"), "{text}");
    assert!(
        text.contains("`np scope patch` failed") && text.contains("401 Unauthorized"),
        "{text}"
    );
    assert!(!text.contains(KEY));
}

#[test]
fn diagnose_reports_each_check_running_then_its_result_in_the_live_output() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cloud = lambda_service().join("examples/scope-cloud-state.json");
    let providers = lambda_service().join("examples/providers.json");
    let created = run_np(d, &example("create-scope"), &cloud, &providers, false);
    assert_eq!(created.out.status.code(), Some(0), "{}", created.text());
    let diagnosed = run_np(d, &example("diagnose-scope"), &created.after, &providers, false);
    let stdout = diagnosed.stdout();
    let running: Vec<&str> = stdout.lines().filter_map(|l| l.strip_prefix("Running check: ")).collect();
    assert!(running.len() >= 3, "every check is announced on stdout:\n{}", diagnosed.text());
    for check in &running {
        let results: Vec<&str> = ["PASSED", "FAILED", "WARNING", "SKIPPED"]
            .iter()
            .copied()
            .filter(|w| stdout.lines().any(|l| l == format!("{w}: {check}")))
            .collect();
        assert_eq!(results.len(), 1, "{check} has one result line:\n{stdout}");
    }
    // The record holds each report: running, then the verdict.
    let reports: Vec<&Value> = diagnosed
        .journal
        .iter()
        .filter(|e| e["event"] == "call" && e["operation"] == "ReportCheck")
        .collect();
    assert_eq!(reports.len(), 2 * running.len());
    // np 0.3.0 has no command for a check: nothing but the live lines reach it.
    assert!(diagnosed.calls.is_empty(), "{:?}", diagnosed.args());
}

#[test]
fn a_deployment_streams_its_live_lines_to_stdout_and_exits_with_its_status() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let providers = lambda_service().join("examples/providers.json");
    let cloud = lambda_service().join("examples/cloud-state.json");
    let run = run_np(d, &example("start-initial"), &cloud, &providers, false);
    assert_eq!(run.out.status.code(), Some(0), "{}", run.text());
    let stdout = run.stdout();
    assert!(
        stdout.contains("▶ update_function_code") && stdout.contains("✔ run succeeded"),
        "{stdout}"
    );
    assert!(
        run.calls.is_empty(),
        "a deployment reports nothing but its live output: {:?}",
        run.args()
    );
}

/// The swap itself: the incumbent channel's command line (`<entrypoint>
/// --service-path=DIR --overrides-path=A,B`, the notification quoted in
/// NP_ACTION_CONTEXT) with only the program replaced by scope-host; what the
/// channel cannot pass is the installation's environment.
#[test]
fn the_channels_command_line_runs_every_kind_of_notification_with_only_the_program_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let svc = lambda_service();
    let (a, b) = (d.join("overrides-a"), d.join("overrides-b"));
    std::fs::create_dir_all(&a).unwrap();
    std::fs::create_dir_all(&b).unwrap();
    let np = fake_np(d);
    let path = std::env::join_paths(
        std::iter::once(np.parent().unwrap().to_path_buf()).chain(std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())),
    )
    .unwrap();
    let examples = svc.join("examples");
    for (slug, state, telemetry) in [
        ("start-initial", "cloud-state.json", false),
        ("create-scope", "scope-cloud-state.json", false),
        ("log-read", "telemetry-cloud-state.json", true),
        ("metric-data", "telemetry-cloud-state.json", true),
        ("instance-data", "telemetry-cloud-state.json", true),
    ] {
        let notification = example(slug);
        let out = scope_host_command()
            .arg(format!("--service-path={}", svc.display()))
            .arg(format!("--overrides-path={},{}", a.display(), b.display()))
            .env("NP_ACTION_CONTEXT", format!("'{notification}'"))
            .env("NP_API_KEY", KEY)
            .env("FAKE_NP_LOG", d.join(format!("{slug}-np.jsonl")))
            .env("SCOPE_HOST_PROVIDERS", examples.join("providers.json"))
            .env("SCOPE_HOST_CLOUD_STATE", examples.join(state))
            .env("SCOPE_HOST_PLATFORM", "np")
            // The fake `np` on PATH, first, as the agent's own would be.
            .env("PATH", &path)
            .env("SCOPE_HOST_STATE", d)
            .env_remove("SCOPE_HOST_PLUGINS")
            .output()
            .unwrap();
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{slug}:\n{stdout}{stderr}");
        let calls = std::fs::read_to_string(d.join(format!("{slug}-np.jsonl"))).unwrap_or_default();
        if slug == "create-scope" {
            assert!(
                calls.contains(r#""scope", "patch""#),
                "create reported the domain through the np on PATH: {calls:?}"
            );
        }
        assert!(
            !calls.contains(&format!("\"{KEY}\"")) || calls.matches(KEY).count() == calls.lines().count(),
            "the key only in the environment"
        );
        if telemetry {
            let answer: Value =
                serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{slug}: stdout is not the answer alone ({e}):\n{stdout}"));
            assert!(answer["results"].is_array(), "{slug}: {answer}");
        } else {
            assert!(
                stdout.contains("✔ run succeeded"),
                "{slug}: the live lines are on stdout:\n{stdout}"
            );
        }
    }
}
