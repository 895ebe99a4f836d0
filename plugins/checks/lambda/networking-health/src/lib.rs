//! Diagnose: Networking Health (warning only): public scopes expect an API Gateway
//! invoke permission in the function policy, others an Elastic Load Balancing one.

use lambda_scope::diagnose::{access_denied, code, verdict};
use scope_step::lambda;
use scope_step::prelude::*;

struct Networking;

impl Check for Networking {
    fn check() -> Result<CheckResult, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let visibility = lambda_scope::var_or("VISIBILITY", "public");
        if visibility == "event-driven" {
            return Ok(verdict(
                CheckStatus::Skipped,
                "event-driven scopes take no HTTP traffic",
                vec![],
                vec![],
            ));
        }
        let expected = if visibility == "public" {
            "apigateway.amazonaws.com"
        } else {
            "elasticloadbalancing.amazonaws.com"
        };
        Ok(match lambda::get_policy(&fname, None) {
            Ok(policy) if policy.contains(expected) => verdict(
                CheckStatus::Pass,
                format!("{expected} may invoke {fname}"),
                vec![("visibility", visibility)],
                vec![],
            ),
            Ok(_) => verdict(
                CheckStatus::Warning,
                format!("the policy of {fname} has no permission for {expected} ({visibility} scope)"),
                vec![("visibility", visibility), ("expected_principal", expected.to_owned())],
                vec!["redeploy the scope's networking so the invoke permission is added"],
            ),
            Err(e) => match access_denied(&e, "lambda:GetPolicy") {
                Some(denied) => denied,
                None if code(&e) == Some("ResourceNotFoundException") => verdict(
                    CheckStatus::Warning,
                    format!("{fname} has no resource policy: nothing may invoke it over HTTP"),
                    vec![("visibility", visibility), ("expected_principal", expected.to_owned())],
                    vec!["redeploy the scope's networking so the invoke permission is added"],
                ),
                None => return Err(e.into()),
            },
        })
    }
}

scope_step::check!(
    Networking,
    Manifest {
        name: "networking-health",
        version: "0.1.0",
        description: "Networking Health",
        inputs: &[Input::required("LAMBDA_FUNCTION_NAME"), Input::optional("VISIBILITY")],
        capabilities: &[Capability::new("lambda:GetPolicy", lambda_scope::FUNCTION)],
        ..Manifest::EMPTY
    }
);
