//! ensure_log_group (create, update): `/aws/lambda/<function>`, created with the
//! scope's tags when absent, its retention set to LOG_RETENTION_DAYS where it
//! differs (the incumbent never passed that variable on).

use scope_step::logs;
use scope_step::prelude::*;

struct EnsureLogGroup;

impl Step for EnsureLogGroup {
    fn run() -> Result<Vec<Output>, StepError> {
        let fname = require_var("LAMBDA_FUNCTION_NAME")?;
        let name = format!("/aws/lambda/{fname}");
        let retention = lambda_scope::number_var("LOG_RETENTION_DAYS", 30)?;
        let existing = logs::describe_log_groups(&name)?.into_iter().find(|g| g.name == name);
        let current = match existing {
            Some(g) => g.retention_in_days,
            None => {
                let tags = lambda_scope::lifecycle::tags(&var("RESOURCE_TAGS").unwrap_or_default(), &[("Module", "compute/lambda")])?;
                logs::create_log_group(&name, &tags)?;
                log::info(&format!("created log group {name}"));
                None
            }
        };
        if current != Some(retention) {
            logs::put_retention_policy(&name, retention)?;
            log::info(&format!("log group {name} keeps events {retention} days"));
        }
        Ok(vec![output("LOG_GROUP_NAME", name)])
    }
}

const LOG_GROUP: &str = "arn:aws:logs:*:*:log-group:/aws/lambda/${LAMBDA_FUNCTION_NAME}";

scope_step::step!(
    EnsureLogGroup,
    Manifest {
        name: "ensure-log-group",
        version: "0.1.0",
        description: "Reconciles the function's log group and its retention",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::optional("LOG_RETENTION_DAYS"),
            Input::optional("RESOURCE_TAGS"),
        ],
        outputs: &[OutputDecl::plain("LOG_GROUP_NAME")],
        capabilities: &[
            Capability::new("logs:DescribeLogGroups", "*"),
            Capability::new("logs:CreateLogGroup", LOG_GROUP),
            Capability::new("logs:TagResource", LOG_GROUP),
            Capability::new("logs:PutRetentionPolicy", LOG_GROUP),
        ],
        ..Manifest::EMPTY
    }
);
