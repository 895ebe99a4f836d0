//! One guest calls every interface of the contract against the simulated cloud;
//! the outputs, the journal and the cloud's final state must agree with what the
//! calls should have done.

use scope_host_tests::{run, scope_vars, Setup};

#[tokio::test]
async fn a_guest_can_use_every_interface() {
    let ran = exercise("exercise").await;
    // What contract 0.2.0 adds: closed sets as variants, a portable error kind,
    // optimistic locking, and the handle limit as an error value.
    assert_eq!(ran.output("STATE"), "Active");
    assert_eq!(ran.output("ARCHITECTURES"), "arm64");
    assert_eq!(ran.output("STALE_UPDATE"), "PreconditionFailedException/ErrorKind::Conflict");
    assert_eq!(
        ran.output("ECR_POLICY_BEFORE"),
        "RepositoryPolicyNotFoundException/ErrorKind::NotFound"
    );
    assert_eq!(
        ran.output("HANDLES_BEFORE_LIMIT"),
        "62",
        "the default limit of 64, less the agent and assumed handles the step holds; the step goes on past it"
    );
    assert_eq!(
        ran.output("HANDLE_AFTER_DROP"),
        "arn:aws:sts::123456789012:assumed-role/np-lambda-agent/np-lambda-11"
    );
    // platform and cloudwatch, new in 0.2.0.
    assert_eq!(ran.output("PLATFORM_READ"), r#"{"alb_rule_priority":7}"#, "the patch is read back");
    assert_eq!(
        ran.output("PLATFORM_BAD_BODY"),
        "invalid: the body must be a JSON object, not an array"
    );
    assert_eq!(ran.output("PLATFORM_BAD_DOMAIN"), "invalid: `not a domain` is not a domain name");
    assert_eq!(ran.output("PLATFORM_UNDECLARED"), "denied: platform:ReportCheck");
    assert_eq!(ran.output("METRIC_BAD_PERIOD"), "a period of 61 s is not a multiple of 60");
    assert_eq!(ran.output("METRIC_POINTS"), "0");
    let platform: Vec<(String, String)> = ran
        .calls()
        .into_iter()
        .filter(|(service, ..)| service == "platform")
        .map(|(_, operation, outcome)| (operation, outcome))
        .collect();
    let expected: Vec<(String, String)> = [
        ("PatchMetadata", "ok"),
        ("ReadMetadata", "ok"),
        ("PatchMetadata", "invalid_input"),
        ("PatchScope", "invalid_input"),
        ("PatchScope", "ok"),
        ("ReportCheck", "denied"),
    ]
    .iter()
    .map(|(o, r)| (o.to_string(), r.to_string()))
    .collect();
    assert_eq!(platform, expected, "every platform call is in the record, refused ones too");
    assert!(ran.sink.text().contains("a live line"), "{}", ran.sink.text());
    let refused = ran.calls();
    assert!(
        refused.contains(&("lambda".into(), "UpdateFunctionConfiguration".into(), "cloud_error".into())),
        "the stale write reached the cloud and was refused there: {refused:?}"
    );
}

/// A plugin built for contract 0.1.0 with the 0.1.0 SDK, never rebuilt, runs
/// unchanged on a host serving 0.2.0: every interface, the same checks.
#[tokio::test]
async fn a_plugin_built_for_contract_0_1_0_runs_unchanged() {
    let plugin = scope_host_tests::load("exercise-v0-1");
    assert_eq!(plugin.manifest.contract, "0.1.0");
    let ran = exercise("exercise-v0-1").await;
    assert_eq!(ran.output("ECR_POLICY_BEFORE"), "RepositoryPolicyNotFoundException");
}

/// Runs an exercise guest and checks what both contract versions do alike.
async fn exercise(guest: &str) -> scope_host_tests::Ran {
    let ran = run(
        guest,
        Setup {
            vars: scope_vars(),
            ..Setup::default()
        },
    )
    .await;
    assert!(ran.report.succeeded(), "{:#?}\nlog:\n{}", ran.report.failure, ran.sink.text());

    // context and providers
    assert_eq!(ran.output("CONTEXT_HAS_SCOPE"), "true");
    assert_eq!(ran.output("STEP_NAME"), guest);
    assert_eq!(ran.output("VAR_COUNT"), "4");
    assert_eq!(ran.output("IAM_PROVIDERS"), "1");
    assert_eq!(
        ran.output("CLOUD_PROVIDERS"),
        "2",
        "the production-only provider is filtered out by dimensions"
    );

    // credentials: the assumed role became the workflow identity
    assert_eq!(ran.output("AGENT_ARN"), "arn:aws:iam::123456789012:user/np-agent");
    assert_eq!(
        ran.output("CURRENT_ARN"),
        "arn:aws:sts::123456789012:assumed-role/np-lambda-agent/np-lambda-11"
    );
    assert_eq!(ran.env.workflow_identity().arn, ran.output("CURRENT_ARN"));

    // lambda: scripted update went InProgress → Successful through the waiter
    assert_eq!(ran.output("UPDATE_STATUS"), "Successful");
    assert_eq!(ran.output("MEMORY"), "512");
    assert_eq!(ran.output("VERSIONS_BEFORE"), "$LATEST,1");
    assert_eq!(ran.output("PUBLISHED_VERSION"), "2");
    assert_eq!(ran.output("ALIAS_VERSION"), "2");
    assert_eq!(ran.output("ALIAS_ROUTING"), "0");
    assert_eq!(ran.output("CREATED_ALIAS"), "exercise");
    assert_eq!(ran.output("POLICY_HAS_APIGW"), "true");
    assert_eq!(ran.output("PROVISIONED"), "IN_PROGRESS");
    assert_eq!(ran.output("VERSIONS_AFTER"), "$LATEST,2");

    // ecr, iam, secrets, tagging
    assert_eq!(ran.output("ECR_POLICY_AFTER"), "true");
    assert!(ran.output("IMAGE_DIGEST").starts_with("sha256:1111"));
    assert_eq!(ran.output("ROLE_NAME"), "lambda-exec");
    assert_eq!(ran.output("SECRET_NAME"), "nullplatform/11/deploy-1/parameters");
    assert_eq!(ran.output("TAGGED"), "1");

    // Undeclared outputs are flagged, declared ones are not.
    let published = ran.report.outputs.iter().find(|o| o.name == "PUBLISHED_VERSION").unwrap();
    assert!(published.declared);
    assert!(!ran.report.outputs.iter().find(|o| o.name == "MEMORY").unwrap().declared);

    // The journal holds every call, in order, each with a request id.
    let calls = ran.calls();
    let ops: Vec<&str> = calls.iter().map(|(_, op, _)| op.as_str()).collect();
    for expected in [
        "AssumeRole",
        "GetFunction",
        "UpdateFunctionCode",
        "PublishVersion",
        "UpdateAlias",
        "SetRepositoryPolicy",
        "GetRole",
        "CreateSecret",
        "DeleteSecret",
        "GetResources",
    ] {
        assert!(ops.contains(&expected), "{expected} missing from {ops:?}");
    }
    let waits = ops.iter().filter(|o| **o == "GetFunctionConfiguration").count();
    assert!(waits >= 3, "the waiter polled until Successful: {ops:?}");
    let entries = ran.env.journal().entries();
    // Cloud calls: the platform's CLI answers with no request id.
    let call_entries: Vec<_> = entries
        .iter()
        .filter(|e| e["event"] == "call" && e["outcome"] == "ok" && e["service"] != "platform")
        .collect();
    assert!(call_entries
        .iter()
        .all(|e| e["request_id"].as_str().is_some_and(|r| r.starts_with("sim-req-"))));
    // Calls after use-for-workflow are made as the assumed role, under the step's
    // own session of it (named after the step), narrowed to the step's grant.
    let publish = entries.iter().find(|e| e["operation"] == "PublishVersion").unwrap();
    assert_eq!(
        publish["identity"],
        format!("arn:aws:sts::123456789012:assumed-role/np-lambda-agent/np-lambda-11.{guest}")
    );
    let sessions: Vec<_> = entries.iter().filter(|e| e["operation"] == "AssumeRole").collect();
    assert_eq!(
        sessions.len(),
        2,
        "the step's AssumeRole, then the host's session for the step: {sessions:?}"
    );
    let policy: serde_json::Value = serde_json::from_str(sessions[1]["session_policy"].as_str().unwrap()).unwrap();
    let allowed: Vec<&str> = policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()))
        .collect();
    assert!(allowed.contains(&"lambda:PublishVersion"), "{policy}");
    assert!(
        allowed.iter().all(|a| !a.starts_with("platform:")),
        "the platform's grants are the host's, never AWS's: {policy}"
    );
    assert!(
        !allowed.iter().any(|a| *a == "*" || *a == "lambda:*"),
        "the declaration's actions, not the open policy's: {policy}"
    );
    assert!(
        policy.to_string().contains("arn:aws:lambda:*:*:function:11-my-app-my-scope"),
        "variables are resolved in the session policy: {policy}"
    );

    // The cloud's final state shows the effects.
    let state = ran.sim.dump_json();
    let f = &state["lambda"]["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "11-my-app-my-scope")
        .unwrap();
    let main = f["aliases"].as_array().unwrap().iter().find(|a| a["name"] == "main").unwrap();
    assert_eq!(main["function_version"], "2");
    assert_eq!(f["memory_size"], 512);
    assert!(state.to_string().contains("LambdaECRImageRetrievalPolicy"));
    ran
}

#[tokio::test]
async fn a_check_returns_its_verdict_with_evidence() {
    let ran = run(
        "check-sample",
        Setup {
            vars: scope_vars(),
            ..Setup::default()
        },
    )
    .await;
    let check = ran.report.check.clone().expect("a verdict");
    assert_eq!(check.status, "pass");
    assert!(check
        .evidence
        .iter()
        .any(|(k, v)| k == "function_arn" && v.ends_with(":function:11-my-app-my-scope")));

    let missing = run(
        "check-sample",
        Setup {
            vars: vec![("LAMBDA_FUNCTION_NAME", "absent-function".into())],
            ..Setup::default()
        },
    )
    .await;
    let check = missing.report.check.clone().expect("a verdict");
    assert_eq!(check.status, "fail");
    assert_eq!(check.suggested_actions, vec!["deploy the scope again".to_owned()]);
}

#[tokio::test]
async fn a_missing_required_variable_is_an_invalid_input_failure() {
    let ran = run("exercise", Setup::default()).await;
    assert_eq!(ran.failure_kind(), "invalid-input");
    assert!(ran.report.failure.unwrap().message.contains("LAMBDA_FUNCTION_NAME"));
}

#[tokio::test]
async fn an_untrusted_role_is_refused_by_the_cloud_with_a_typed_error() {
    let mut vars = scope_vars();
    vars[1].1 = "arn:aws:iam::123456789012:role/untrusting-role".into();
    let ran = run("exercise", Setup { vars, ..Setup::default() }).await;
    assert_eq!(ran.failure_kind(), "cloud");
    let msg = ran.report.failure.clone().unwrap().message;
    assert!(msg.contains("sts AssumeRole failed: AccessDenied"), "{msg}");
    assert!(ran.calls().contains(&("sts".into(), "AssumeRole".into(), "cloud_error".into())));
}
