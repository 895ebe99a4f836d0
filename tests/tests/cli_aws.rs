//! `--cloud aws` from the command line, against the moto emulator on loopback.

use scope_host_tests::{binary, guest_dir, Moto};
use std::process::Command;

fn scope_host(moto: &Moto, args: &[&str]) -> (Option<i32>, String) {
    let mut cmd = Command::new(binary());
    cmd.args(args)
        .env("SCOPE_HOST_CACHE", scope_host_tests::target_dir().join("test-compile-cache"))
        .env("SCOPE_HOST_STATE", std::env::temp_dir().join("scope-host-cli-tests"))
        .env_remove("AWS_PROFILE");
    for (k, v) in moto.env() {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn a_step_runs_against_the_aws_backend() {
    let moto = Moto::start();
    let plugin = guest_dir().join("assume_role.wasm");
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
    let plugin = guest_dir().join("hello.wasm");
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
        ],
    );
    assert_eq!(code, Some(2), "{text}");
    assert!(text.contains("GetCallerIdentity") && text.contains(&endpoint), "{text}");
}
