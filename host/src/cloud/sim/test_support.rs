//! Helpers shared by the sim's tests.

use super::SimCloud;
use crate::cloud::{AssumeRoleRequest, CallCtx, CloudBase, CloudError, CloudResult, Identity, StsApi};
use serde_json::Value;

/// A sim from a fixture written with `json!`.
pub(super) fn sim(fixture: Value) -> SimCloud {
    match SimCloud::from_fixture_json(&fixture.to_string()) {
        Ok(sim) => sim,
        Err(e) => panic!("test fixture does not load: {e}"),
    }
}

/// A call as the fixture's agent, in the fixture's region.
pub(super) async fn agent(sim: &SimCloud) -> CallCtx {
    let identity = sim.agent_identity().await.expect("agent identity").value;
    CallCtx {
        identity,
        region: sim.default_region(),
    }
}

/// A call as a session of `role_arn`, assumed by the agent.
pub(super) async fn as_role(sim: &SimCloud, role_arn: &str, session_policy: Option<&str>) -> CallCtx {
    let ctx = agent(sim).await;
    let req = AssumeRoleRequest {
        role_arn: role_arn.to_string(),
        session_name: "test-session".to_string(),
        session_policy: session_policy.map(str::to_string),
        duration_seconds: 3600,
    };
    let identity: Identity = sim.assume_role(&ctx, &req).await.expect("assume role").value;
    CallCtx {
        identity,
        region: ctx.region,
    }
}

/// The error of a call that must fail, checked to carry a request id.
pub(super) fn err<T: std::fmt::Debug>(result: CloudResult<T>) -> CloudError {
    let e = result.expect_err("the call should fail");
    assert!(
        e.request_id.as_deref().is_some_and(|id| id.starts_with("sim-req-")),
        "no request id: {e:?}"
    );
    assert!(!e.retryable, "sim errors are not retryable: {e:?}");
    e
}

/// The value of a call that must succeed, checked to carry a request id.
pub(super) fn ok<T: std::fmt::Debug>(result: CloudResult<T>) -> T {
    match result {
        Ok(reply) => {
            assert!(
                reply.request_id.as_deref().is_some_and(|id| id.starts_with("sim-req-")),
                "no request id"
            );
            reply.value
        }
        Err(e) => panic!("the call should succeed: {e}"),
    }
}
