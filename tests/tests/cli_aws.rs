//! `--cloud aws` from the command line, against the moto emulator on loopback.

use scope_host_tests::{guest_dir, output_text, scope_host_command, Moto};

fn scope_host(moto: &Moto, args: &[&str]) -> (Option<i32>, String) {
    let out = scope_host_command().args(args).envs(moto.env()).output().unwrap();
    (out.status.code(), output_text(&out))
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
