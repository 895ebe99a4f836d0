//! A planted-secret run: a secret parameter, a value written to Secrets Manager, a
//! secret output and assumed-role keys all exist; none may appear in any log line,
//! output, error, stdout/stderr, or the journal.

use scope_host_tests::{run, Setup};

const PLANTED: [&str; 3] = ["s3cr3t-planted-password", "written-secret-value-123", "declared-secret-token-456"];

fn assert_clean(what: &str, text: &str, extra: &[String]) {
    for s in PLANTED.iter().map(|s| s.to_string()).chain(extra.iter().cloned()) {
        assert!(!text.contains(&s), "{what} leaks `{s}`:\n{text}");
    }
}

async fn leaky(mode: &str) -> scope_host_tests::Ran {
    let vars = vec![
        ("ROLE_ARN", "arn:aws:iam::123456789012:role/np-lambda-agent".to_owned()),
        ("MODE", mode.to_owned()),
    ];
    run("leaky", Setup { vars, ..Setup::default() }).await
}

#[tokio::test]
async fn no_secret_reaches_logs_outputs_or_the_journal() {
    let ran = leaky("ok").await;
    assert!(ran.report.succeeded(), "{:?}", ran.report.failure);
    let keys = ran
        .env
        .workflow_identity()
        .credentials
        .expect("assumed-role credentials")
        .secret_values();
    assert!(!keys.is_empty());

    assert_clean("the live log", &ran.sink.text(), &keys);
    assert_clean("stdout", &ran.report.stdout, &keys);
    assert_clean("stderr", &ran.report.stderr, &keys);
    assert_clean("the journal", &ran.journal_text(), &keys);
    // The guest really tried: its log line is there, masked.
    assert!(ran.sink.text().contains("wrote [REDACTED:"));

    // Outputs as a person sees them: secret ones masked, plain ones redacted.
    let token = ran.report.outputs.iter().find(|o| o.name == "TOKEN").unwrap();
    assert!(token.secret);
    let shown: String = ran
        .report
        .outputs
        .iter()
        .map(|o| {
            if o.secret {
                "[REDACTED]".to_owned()
            } else {
                ran.env.redactor().redact(&o.value)
            }
        })
        .collect();
    assert_clean("outputs", &shown, &keys);
}

#[tokio::test]
async fn a_failure_message_carrying_secrets_is_redacted() {
    let ran = leaky("fail").await;
    assert_eq!(ran.failure_kind(), "failed");
    let msg = &ran.report.failure.as_ref().unwrap().message;
    assert!(msg.contains("failing with the context"));
    assert_clean("the failure", msg, &[]);
    assert_clean("the journal", &ran.journal_text(), &[]);
}

#[tokio::test]
async fn the_simulated_cloud_dump_keeps_no_secret_value() {
    let ran = leaky("ok").await;
    let dump = ran.sim.dump_json().to_string();
    assert_clean("the cloud state dump", &dump, &[]);
    assert!(dump.contains("value_sha256"));
}
