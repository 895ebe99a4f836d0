//! Test guest: Tries to leak every secret it can reach.
#[allow(unused_imports)]
use scope_step::lambda;
use scope_step::prelude::*;

struct Guest;

impl Step for Guest {
    fn run() -> Result<Vec<Output>, StepError> {
        let ctx = context_json();
        log::info(&format!("context: {ctx}"));
        println!("stdout: {ctx}");
        eprintln!("stderr: {ctx}");
        if let Some(role) = var("ROLE_ARN") {
            let id = scope_step::credentials::assume_role(&role, "np-lambda-11")?;
            scope_step::credentials::use_for_workflow(&id);
            log::info(&format!("identity {} expires {:?}", id.arn(), id.expires_at()));
        }
        let written = "written-secret-value-123";
        scope_step::secrets::create_secret("nullplatform/11/deploy-1/parameters", "x", written, &[])?;
        log::info(&format!("wrote {written}"));
        if var("MODE").as_deref() == Some("fail") {
            return Err(StepError::Failed(format!("failing with the context: {ctx} and {written}")));
        }
        Ok(vec![
            output("PLAIN_COPY", ctx.clone()),
            secret_output("TOKEN", "declared-secret-token-456"),
            output("ECHO", "token was declared-secret-token-456"),
        ])
    }
}

scope_step::step!(
    Guest,
    Manifest {
        name: "leaky",
        version: "0.1.0",
        description: "Tries to leak every secret it can reach",
        capabilities: &[
            Capability::new("sts:AssumeRole", "*"),
            Capability::new("secretsmanager:CreateSecret", "*")
        ],
        ..Manifest::EMPTY
    }
);
