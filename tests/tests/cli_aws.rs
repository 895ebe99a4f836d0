//! `--cloud aws` from the command line, against the moto emulator on loopback.

use scope_host_tests::{guest, output_text, scope_host_command, Moto};

fn scope_host(moto: &Moto, args: &[&str]) -> (Option<i32>, String) {
    let out = scope_host_command().args(args).envs(moto.env()).output().unwrap();
    (out.status.code(), output_text(&out))
}

#[test]
fn a_step_runs_against_the_aws_backend() {
    let moto = Moto::start();
    let plugin = guest("assume-role");
    let (code, text) = scope_host(
        &moto,
        &[
            "step",
            "run",
            plugin.to_str().unwrap(),
            "--cloud",
            "aws",
            "--endpoint-url",
            &moto.endpoint,
            "--grant-declared",
            "--var",
            "ASSUME_ROLE_ARN=arn:aws:iam::123456789012:role/deployer",
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("workflow identity is now arn:aws:sts::123456789012:assumed-role/deployer/np-lambda-workflow"),
        "{text}"
    );
    assert!(
        text.contains("sts AssumeRole arn:aws:iam::123456789012:role/deployer → ok"),
        "{text}"
    );

    let (code, text) = scope_host(
        &moto,
        &["step", "run", plugin.to_str().unwrap(), "--cloud", "aws", "--cloud-state", "x.json"],
    );
    assert_eq!(code, Some(2));
    assert!(text.contains("belong to the simulated cloud"), "{text}");
}

#[test]
fn an_unreachable_endpoint_is_a_clear_error() {
    let moto = Moto::start();
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let plugin = guest("hello");
    let endpoint = format!("http://127.0.0.1:{dead}");
    let (code, text) = scope_host(
        &moto,
        &[
            "step",
            "run",
            plugin.to_str().unwrap(),
            "--cloud",
            "aws",
            "--endpoint-url",
            &endpoint,
            "--grant-declared",
        ],
    );
    // The environment failed, not the input: exit 3.
    assert_eq!(code, Some(3), "{text}");
    assert!(text.contains("GetCallerIdentity") && text.contains(&endpoint), "{text}");
    // For people: what failed and what to check, not the SDK's Debug of its layers.
    assert!(text.contains("Connection refused") && text.contains("check the endpoint"), "{text}");
    assert!(!text.contains("DispatchFailure(") && !text.contains("ConnectorError {"), "{text}");
}

#[test]
fn wrong_credentials_are_a_clear_error_and_the_run_record_says_why() {
    let moto = Moto::start();
    moto.enforce_iam();
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let plugin = guest("hello");
    let mut env = moto.env();
    env.retain(|(k, _)| *k != "AWS_ACCESS_KEY_ID");
    env.push(("AWS_ACCESS_KEY_ID", "AKIANOTAREALKEY00000".into()));
    let out = scope_host_command()
        .args([
            "step",
            "run",
            plugin.to_str().unwrap(),
            "--cloud",
            "aws",
            "--endpoint-url",
            &moto.endpoint,
            "--grant-declared",
        ])
        .arg("--journal")
        .arg(&journal)
        .envs(env)
        .output()
        .unwrap();
    let text = output_text(&out);
    assert_eq!(out.status.code(), Some(3), "{text}");
    assert!(
        text.contains("asking the cloud who the agent is") && text.contains("GetCallerIdentity"),
        "{text}"
    );
    let record = std::fs::read_to_string(&journal).unwrap();
    let entries: Vec<serde_json::Value> = record.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let call = entries
        .iter()
        .find(|e| e["operation"] == "GetCallerIdentity")
        .expect("the failed call is recorded");
    assert_eq!(call["outcome"], "cloud_error", "{call}");
    assert_eq!(entries.last().unwrap()["event"], "run_finished", "{record}");
    assert_eq!(entries.last().unwrap()["outcome"], "failed", "{record}");
    assert!(!record.contains("testing"), "the secret key is not in the record: {record}");
}

#[test]
fn against_aws_a_run_without_a_policy_is_refused_unless_the_operator_says_so() {
    let moto = Moto::start();
    moto.start_recording();
    let plugin = guest("hello");
    let dir = tempfile::tempdir().unwrap();
    let journal = dir.path().join("run.jsonl");
    let base = [
        "step",
        "run",
        plugin.to_str().unwrap(),
        "--cloud",
        "aws",
        "--endpoint-url",
        &moto.endpoint,
    ];
    let (code, text) = scope_host(&moto, &base);
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("--grant-declared") && text.contains("--policy"), "{text}");
    assert!(moto.recorded_bodies().is_empty(), "nothing was sent to the cloud");

    let mut explicit = base.to_vec();
    explicit.extend(["--grant-declared", "--journal", journal.to_str().unwrap()]);
    let (code, text) = scope_host(&moto, &explicit);
    assert_eq!(code, Some(0), "{text}");
    let record = std::fs::read_to_string(&journal).unwrap();
    assert!(record.contains("granted what its manifest declares (--grant-declared)"), "{record}");
}
