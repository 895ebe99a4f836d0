//! ensure_aliases (create): the main alias (LAMBDA_MAIN_ALIAS_NAME) and the
//! warm-up alias (WARMUP_ALIAS_NAME, when the scope names one), created on the
//! first published version when absent. An existing alias is never moved: where it
//! points is the deployments' business (the incumbent's create re-run moved `main`).

use lambda_scope::lifecycle::is_absent;
use scope_step::lambda;
use scope_step::prelude::*;

struct EnsureAliases;

/// The version a new alias points at: 1, or the oldest published one left.
fn first_version(fname: &str) -> Result<String, StepError> {
    let versions = lambda::list_versions_by_function(fname)?;
    match versions.iter().filter_map(|v| v.version.parse::<u64>().ok()).min() {
        Some(n) => Ok(n.to_string()),
        None => {
            let published = lambda::publish_version(fname, "", None)?;
            log::info(&format!(
                "function {fname} had no published version: published {}",
                published.version
            ));
            Ok(published.version)
        }
    }
}

fn ensure(fname: &str, alias: &str, version: &mut Option<String>) -> Result<String, StepError> {
    match lambda::get_alias(fname, alias) {
        Ok(a) => {
            log::info(&format!("alias {alias} exists (version {}): left as it is", a.function_version));
            Ok(a.alias_arn)
        }
        Err(e) if is_absent(&e) => {
            let v = match version {
                Some(v) => v.clone(),
                None => version.insert(first_version(fname)?).clone(),
            };
            let created = lambda::create_alias(fname, alias, &v, "created with the scope", &[])?;
            log::info(&format!("created alias {alias} → version {v}"));
            Ok(created.alias_arn)
        }
        Err(e) => Err(e.into()),
    }
}

impl Step for EnsureAliases {
    fn run() -> Result<Vec<Output>, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let main = lambda_scope::var_or("LAMBDA_MAIN_ALIAS_NAME", "main");
        let mut version = None;
        let arn = ensure(&fname, &main, &mut version)?;
        if let Some(warmup) = var("WARMUP_ALIAS_NAME").filter(|w| !w.is_empty() && *w != main) {
            ensure(&fname, &warmup, &mut version)?;
        }
        Ok(vec![output("LAMBDA_ALIAS_ARN", arn)])
    }
}

scope_step::step!(
    EnsureAliases,
    Manifest {
        name: "ensure-aliases",
        version: "0.1.0",
        description: "Creates the main (and warm-up) alias on the first version when absent; never moves them",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::optional("LAMBDA_MAIN_ALIAS_NAME"),
            Input::optional("WARMUP_ALIAS_NAME"),
        ],
        outputs: &[OutputDecl::plain("LAMBDA_ALIAS_ARN")],
        capabilities: &[
            Capability::new("lambda:GetAlias", lambda_scope::FUNCTION),
            Capability::new("lambda:CreateAlias", lambda_scope::FUNCTION),
            Capability::new("lambda:ListVersionsByFunction", lambda_scope::FUNCTION),
            Capability::new("lambda:PublishVersion", lambda_scope::FUNCTION),
        ],
        ..Manifest::EMPTY
    }
);
