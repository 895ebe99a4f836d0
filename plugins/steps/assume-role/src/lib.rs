//! assume_role: resolves the role to assume, first non-empty wins:
//! 1. variable `ASSUME_ROLE_ARN`;
//! 2. the account's IAM provider (`aws-iam-configuration`), first
//!    `attributes.iam_role_arns.arns[]` whose `selector` is `ASSUME_ROLE_SELECTOR` (default `lambda`);
//! 3. legacy: first `attributes.assume_role.arn` of the account's `scope-configurations` providers;
//! 4. variable `ASSUME_ROLE_ARN_DEFAULT`;
//! 5. none: the agent's own identity.
//!
//! Malformed provider data counts as no match.

use lambda_scope::{account_nrn, Context};
use scope_step::prelude::*;
use scope_step::{credentials, providers, CallError};
use serde_json::Value;

struct AssumeRole;

/// Where the role came from, for the log and the `ROLE_SOURCE` output.
fn resolve(ctx: &Context, selector: &str) -> Option<(String, &'static str)> {
    if let Some(arn) = var("ASSUME_ROLE_ARN").filter(|a| !a.is_empty()) {
        return Some((arn, "variable ASSUME_ROLE_ARN"));
    }
    let nrn = ctx
        .text("/scope/nrn")
        .or_else(|| ctx.text("/service/nrn"))
        .or_else(|| ctx.text("/entity_nrn"));
    if let Some(nrn) = nrn {
        let account = account_nrn(&nrn);
        if let Ok(found) = providers::by_specification(account, "aws-iam-configuration") {
            let arn = found.iter().find_map(|p| {
                let attrs: Value = serde_json::from_str(&p.attributes).ok()?;
                attrs.pointer("/iam_role_arns/arns")?.as_array()?.iter().find_map(|e| {
                    (e.get("selector")?.as_str()? == selector)
                        .then(|| e.get("arn")?.as_str().map(str::to_owned))
                        .flatten()
                        .filter(|a| !a.is_empty())
                })
            });
            if let Some(arn) = arn {
                return Some((arn, "the account's IAM provider"));
            }
        }
        if let Ok(found) = providers::by_category(account, &["scope-configurations".to_owned()], &[]) {
            let arn = found.iter().find_map(|p| {
                let attrs: Value = serde_json::from_str(&p.attributes).ok()?;
                attrs
                    .pointer("/assume_role/arn")?
                    .as_str()
                    .filter(|a| !a.is_empty())
                    .map(str::to_owned)
            });
            if let Some(arn) = arn {
                return Some((arn, "the legacy scope-configurations provider"));
            }
        }
    }
    var("ASSUME_ROLE_ARN_DEFAULT")
        .filter(|a| !a.is_empty())
        .map(|arn| (arn, "variable ASSUME_ROLE_ARN_DEFAULT"))
}

impl Step for AssumeRole {
    fn run() -> Result<Vec<Output>, StepError> {
        let ctx = Context::load()?;
        let selector = lambda_scope::var_or("ASSUME_ROLE_SELECTOR", "lambda");
        let Some((arn, source)) = resolve(&ctx, &selector) else {
            log::info("no role to assume: the workflow runs as the agent's own identity");
            return Ok(vec![output("ASSUMED_ROLE_ARN", ""), output("ROLE_SOURCE", "agent")]);
        };
        let session = match ctx.text("/scope/id") {
            Some(id) => format!("np-lambda-{id}"),
            None => "np-lambda-workflow".to_owned(),
        };
        log::info(&format!("assuming {arn} (from {source}) as session {session}"));
        let identity = credentials::assume_role(&arn, &session).map_err(|e| {
            let why = match &e {
                CallError::Cloud(c) => format!("{}: {}", c.code, c.message),
                CallError::Denied(d) => format!("denied by the host: {}", d.reason),
                CallError::InvalidInput(m) | CallError::Limit(m) => m.clone(),
            };
            StepError::Failed(format!(
                "could not assume {arn} (from {source}): {why}. Likely causes: the agent is not allowed to call sts:AssumeRole on this role; \
                 the role's trust policy does not trust the agent; or the resolved ARN is wrong (selector `{selector}`)"
            ))
        })?;
        credentials::use_for_workflow(&identity);
        Ok(vec![
            output("ASSUMED_ROLE_ARN", arn),
            output("ROLE_SOURCE", source),
            output("AWS_ACCOUNT_ID", identity.account()),
        ])
    }
}

scope_step::step!(
    AssumeRole,
    Manifest {
        name: "assume-role",
        version: "0.1.0",
        description: "Assumes the scope's deployment role and makes it the workflow identity",
        inputs: &[
            Input::optional("ASSUME_ROLE_ARN"),
            Input::optional("ASSUME_ROLE_SELECTOR"),
            Input::optional("ASSUME_ROLE_ARN_DEFAULT")
        ],
        outputs: &[
            OutputDecl::plain("ASSUMED_ROLE_ARN"),
            OutputDecl::plain("ROLE_SOURCE"),
            OutputDecl::plain("AWS_ACCOUNT_ID")
        ],
        // The role comes from provider data at run time, so no variable can narrow it.
        capabilities: &[Capability::new("sts:AssumeRole", "arn:aws:iam::*:role/*")],
        ..Manifest::EMPTY
    }
);
