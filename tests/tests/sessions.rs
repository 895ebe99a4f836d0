//! Per-step role sessions over time, on the simulated cloud with its virtual clock:
//! a step's session is reused while it outlives the step's deadline and renewed
//! before it expires — even when the session the workflow's assume-role step got
//! has long expired — and an expired key is refused the way AWS refuses it.

use scope_host::caps::RunEnv;
use scope_host::cloud::sim::SimCloud;
use scope_host::cloud::{CallCtx, LambdaApi};
use scope_host::sandbox::Limits;
use scope_host::step::{run_step, StepReport, StepRequest};
use scope_host_tests::{fixture, load};
use std::sync::Arc;
use std::time::Duration;

async fn step(env: &Arc<RunEnv>, plugin: &str, vars: &[(&str, &str)]) -> StepReport {
    run_step(
        env.clone(),
        StepRequest {
            name: plugin.replace('_', "-"),
            plugin: load(plugin),
            vars: vars.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            context: "{}".into(),
            limits: Limits::default(),
        },
    )
    .await
}

fn assume_roles(env: &RunEnv) -> usize {
    env.journal().entries().iter().filter(|e| e["operation"] == "AssumeRole").count()
}

#[tokio::test]
async fn step_sessions_are_reused_then_renewed_before_they_expire() {
    let sim = Arc::new(SimCloud::from_fixture_file(&fixture("cloud.json")).unwrap());
    let env = scope_host::run::RunBuilder::new(sim.clone()).build().await.unwrap();
    let role = "arn:aws:iam::123456789012:role/np-lambda-agent";
    let assumed = step(&env, "assume_role", &[("ASSUME_ROLE_ARN", role)]).await;
    assert!(assumed.succeeded(), "{:?}", assumed.failure);
    let workflow_identity = env.workflow_identity();
    assert!(
        workflow_identity.arn.contains(":assumed-role/np-lambda-agent/"),
        "{}",
        workflow_identity.arn
    );

    let check = [("LAMBDA_FUNCTION_NAME", "11-my-app-my-scope")];
    let first = step(&env, "check_function_exists", &check).await;
    assert!(first.succeeded(), "{:?}", first.failure);
    assert_eq!(first.check.as_ref().unwrap().status, "pass");
    assert!(
        first.identity.ends_with(".check-function-exists"),
        "the step's own session: {}",
        first.identity
    );
    assert_eq!(assume_roles(&env), 2, "the workflow's role, then the check's session");

    // A minute later the check's session still outlives a whole step deadline: reused.
    sim.advance_clock(Duration::from_secs(60));
    assert!(step(&env, "check_function_exists", &check).await.succeeded());
    assert_eq!(assume_roles(&env), 2, "the cached session is reused");

    // An hour later every session made so far has expired, the workflow role's too.
    sim.advance_clock(Duration::from_secs(3600));
    let ctx = CallCtx {
        identity: workflow_identity.clone(),
        region: "us-east-1".into(),
    };
    let expired = sim.get_function(&ctx, "11-my-app-my-scope", None).await.unwrap_err();
    assert_eq!(expired.code, "ExpiredTokenException", "{expired}");
    // The host renews the step's session from the agent, so the step still works.
    let later = step(&env, "check_function_exists", &check).await;
    assert!(later.succeeded(), "{:?}", later.failure);
    assert_eq!(later.check.as_ref().unwrap().status, "pass", "{:?}", later.check);
    assert_eq!(assume_roles(&env), 3, "a fresh session for the check");
    let renewed = env
        .journal()
        .entries()
        .into_iter()
        .rfind(|e| e["operation"] == "AssumeRole")
        .unwrap();
    assert_eq!(
        renewed["identity"], "arn:aws:iam::123456789012:user/np-agent",
        "signed by the agent: {renewed}"
    );
}
