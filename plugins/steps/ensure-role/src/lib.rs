//! ensure_role (create, update): the scope's execution role, reconciled. Found by
//! its deterministic name; created when absent (trust for Lambda, the permissions
//! boundary, tags); otherwise each part is compared and changed only where it
//! differs: the trust policy, the boundary, missing tags, the three inline
//! policies, and the VPC access policy (attached when the scope is in a VPC,
//! detached when it no longer is — the incumbent's update never got that far).
//! A lost state never breaks it: there is no state.

use lambda_scope::lifecycle::{self, is_absent, VPC_POLICY_ARN};
use scope_step::iam;
use scope_step::prelude::*;
use serde_json::{json, Value};

struct EnsureRole;

fn trust_policy() -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
}

/// The inline policies every execution role holds (the incumbent's three).
fn inline_policies(region: &str, account: &str, function: &str, scope_id: &str) -> Vec<(&'static str, Value)> {
    let log_group = format!("arn:aws:logs:{region}:{account}:log-group:/aws/lambda/{function}");
    vec![
        (
            "cloudwatch-logs",
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["logs:CreateLogGroup"], "Resource": [log_group]},
                {"Effect": "Allow", "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                 "Resource": [log_group, format!("{log_group}:*")]}]}),
        ),
        (
            "ecr-image-pull",
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                 "Resource": [format!("arn:aws:ecr:{region}:{account}:repository/*")]},
                {"Effect": "Allow", "Action": ["ecr:GetAuthorizationToken"], "Resource": ["*"]}]}),
        ),
        (
            "secrets-manager-parameters-read",
            json!({"Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"],
                 "Resource": [format!("arn:aws:secretsmanager:*:*:secret:nullplatform/{scope_id}/*")]}]}),
        ),
    ]
}

/// The account resources live in: the provider's, else the identity's.
fn account() -> Result<String, StepError> {
    match var("AWS_ACCOUNT_ID").filter(|a| !a.is_empty()) {
        Some(a) => Ok(a),
        None => Ok(scope_step::credentials::current_identity()?.account()),
    }
}

impl Step for EnsureRole {
    fn run() -> Result<Vec<Output>, StepError> {
        let name = require_var("LAMBDA_EXECUTION_ROLE_NAME")?;
        let function = require_var("LAMBDA_FUNCTION_NAME")?;
        let scope_id = require_var("SCOPE_ID")?;
        let region = lambda_scope::var_or("AWS_REGION", "us-east-1");
        let account = account()?;
        let boundary = var("IAM_PERMISSIONS_BOUNDARY").filter(|b| !b.is_empty());
        let vpc = lambda_scope::var_or("VPC_ENABLED", "false") == "true";
        let tags = lifecycle::tags(
            &var("RESOURCE_TAGS").unwrap_or_default(),
            &[("ManagedBy", "custom-scope-role"), ("Module", "iam")],
        )?;
        let trust = trust_policy();

        let (role, created) = match iam::get_role(&name) {
            Ok(role) => (role, false),
            Err(e) if is_absent(&e) => {
                let role = iam::create_role(&iam::CreateRoleRequest {
                    role_name: name.clone(),
                    assume_role_policy_document: trust.to_string(),
                    description: format!("Execution role of the Lambda function {function}"),
                    permissions_boundary: boundary.clone(),
                    tags: tags.clone(),
                })?;
                log::info(&format!("created role {name}"));
                (role, true)
            }
            Err(e) => return Err(e.into()),
        };
        if !created {
            let current: Value = serde_json::from_str(&role.assume_role_policy_document).unwrap_or(Value::Null);
            if current != trust {
                iam::update_assume_role_policy(&name, &trust.to_string())?;
                log::info(&format!("role {name}: trust policy differed; now trusts lambda.amazonaws.com only"));
            }
            match (&boundary, &role.permissions_boundary) {
                (Some(want), have) if have.as_ref() != Some(want) => {
                    iam::put_role_permissions_boundary(&name, want)?;
                    log::info(&format!("role {name}: permissions boundary set to {want}"));
                }
                (None, Some(have)) => log::warn(&format!(
                    "role {name} has the permissions boundary {have}, which the scope no longer configures; it is left in place"
                )),
                _ => {}
            }
            let missing: Vec<(String, String)> = tags.iter().filter(|t| !role.tags.contains(t)).cloned().collect();
            if !missing.is_empty() {
                iam::tag_role(&name, &missing)?;
                log::info(&format!("role {name}: {} tag(s) added or corrected", missing.len()));
            }
        }

        for (policy, document) in inline_policies(&region, &account, &function, &scope_id) {
            let current = match iam::get_role_policy(&name, policy) {
                Ok(text) => serde_json::from_str::<Value>(&text).ok(),
                Err(e) if is_absent(&e) => None,
                Err(e) => return Err(e.into()),
            };
            if current.as_ref() == Some(&document) {
                continue;
            }
            iam::put_role_policy(&name, policy, &document.to_string())?;
            let why = if current.is_some() { "differed; replaced" } else { "added" };
            log::info(&format!("role {name}: inline policy {policy} {why}"));
        }

        let attached = iam::list_attached_role_policies(&name)?;
        let has_vpc = attached.iter().any(|p| p.policy_arn == VPC_POLICY_ARN);
        if vpc && !has_vpc {
            iam::attach_role_policy(&name, VPC_POLICY_ARN)?;
            log::info(&format!("role {name}: VPC access policy attached"));
        } else if !vpc && has_vpc {
            iam::detach_role_policy(&name, VPC_POLICY_ARN)?;
            log::info(&format!("role {name}: VPC access policy detached (the scope is not in a VPC)"));
        }
        if !created {
            log::info(&format!("role {name} reconciled"));
        }
        Ok(vec![
            output("LAMBDA_ROLE_ARN", role.arn),
            output("LAMBDA_ROLE_CREATED", created.to_string()),
        ])
    }
}

const ROLE: &str = "arn:aws:iam::*:role/${LAMBDA_EXECUTION_ROLE_NAME}";

scope_step::step!(
    EnsureRole,
    Manifest {
        name: "ensure-role",
        version: "0.1.0",
        description: "Reconciles the scope's execution role: trust, boundary, tags, inline policies, VPC access",
        inputs: &[
            Input::required("LAMBDA_EXECUTION_ROLE_NAME"),
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::required("SCOPE_ID"),
            Input::optional("AWS_REGION"),
            Input::optional("AWS_ACCOUNT_ID"),
            Input::optional("IAM_PERMISSIONS_BOUNDARY"),
            Input::optional("VPC_ENABLED"),
            Input::optional("RESOURCE_TAGS"),
        ],
        outputs: &[OutputDecl::plain("LAMBDA_ROLE_ARN"), OutputDecl::plain("LAMBDA_ROLE_CREATED")],
        capabilities: &[
            Capability::new("iam:GetRole", ROLE),
            Capability::new("iam:CreateRole", ROLE),
            Capability::new("iam:TagRole", ROLE),
            Capability::new("iam:PutRolePermissionsBoundary", ROLE),
            Capability::new("iam:UpdateAssumeRolePolicy", ROLE),
            Capability::new("iam:GetRolePolicy", ROLE),
            Capability::new("iam:PutRolePolicy", ROLE),
            Capability::new("iam:ListAttachedRolePolicies", ROLE),
            Capability::new("iam:AttachRolePolicy", ROLE),
            Capability::new("iam:DetachRolePolicy", ROLE),
        ],
        ..Manifest::EMPTY
    }
);
