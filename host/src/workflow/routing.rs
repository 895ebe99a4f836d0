//! Which workflow a platform notification runs (rules of the bash agent, kept).

use serde_json::Value;
use thiserror::Error;

/// Why a notification routes to no workflow.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RouteError {
    /// The document is neither `{"notification": {...}}` nor the inner object.
    #[error("the notification is not a JSON object with a `notification` member")]
    NotAnObject,
    /// A deployment notification (it has a deployment id) whose slug is not one of
    /// [`DEPLOYMENT_SLUGS`].
    #[error("deployment notification with unknown slug `{slug}`; known slugs: {}", known_slugs())]
    UnknownDeploymentSlug { slug: String },
    /// A `custom` scope notification names its workflow by slug, and has none.
    #[error("custom scope notification without a `slug`")]
    CustomWithoutSlug,
    /// A scope notification names its workflow by type, and has none.
    #[error("scope notification without a `type` (e.g. create, delete, custom)")]
    ScopeWithoutType,
    /// The `type` or `slug` naming a scope workflow is not a plain name, so it could
    /// reach a file outside the service folder. `name` is cut to 200 characters.
    #[error(
        "the notification's `{field}` {} is not a workflow name (letters, digits, `-` and `_` only): it names a file under <service>/scope/workflows/ and cannot be a path",
        Value::String(.name.clone())
    )]
    NotAWorkflowName { field: &'static str, name: String },
}

fn known_slugs() -> String {
    DEPLOYMENT_SLUGS.iter().map(|(s, _)| *s).collect::<Vec<_>>().join(", ")
}

/// Deployment, scope or telemetry workflow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    Deployment,
    Scope,
    /// `log:read`.
    Log,
    /// `metric:list` and every other `metric:` action.
    Metric,
    /// `instance:data`.
    Instance,
}

impl Family {
    /// The folder under the service path: `deployment`, `scope`, `log`, `metric`
    /// or `instance`.
    pub fn folder(self) -> &'static str {
        match self {
            Family::Deployment => "deployment",
            Family::Scope => "scope",
            Family::Log => "log",
            Family::Metric => "metric",
            Family::Instance => "instance",
        }
    }

    /// A telemetry request: its answer is the one thing on stdout.
    pub fn is_telemetry(self) -> bool {
        matches!(self, Family::Log | Family::Metric | Family::Instance)
    }
}

/// Telemetry actions route before the deployment and scope rules, as the
/// incumbent's entrypoint routes them.
fn telemetry(action: &str) -> Option<Route> {
    let (family, workflow) = match action {
        "log:read" => (Family::Log, "read"),
        "metric:list" => (Family::Metric, "list"),
        a if a.starts_with("metric:") => (Family::Metric, "data"),
        "instance:data" => (Family::Instance, "data"),
        _ => return None,
    };
    Some(Route {
        family,
        workflow: workflow.to_owned(),
    })
}

/// The workflow a notification routes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub family: Family,
    /// The workflow's name (file `<service>/<family>/workflows/<name>.yaml`).
    pub workflow: String,
}

/// Deployment slugs and their workflows.
pub const DEPLOYMENT_SLUGS: [(&str, &str); 7] = [
    ("start-initial", "initial"),
    ("start-blue-green", "blue_green"),
    ("switch-traffic", "switch_traffic"),
    ("rollback-deployment", "rollback"),
    ("finalize-blue-green", "finalize"),
    ("delete-deployment", "delete"),
    ("diagnose-deployment", "diagnose"),
];

/// Routes `{"notification": {...}}` (or the inner object itself).
pub fn route(doc: &Value) -> Result<Route, RouteError> {
    let n = doc.get("notification").unwrap_or(doc);
    if !n.is_object() {
        return Err(RouteError::NotAnObject);
    }
    if let Some(route) = n.get("action").and_then(Value::as_str).and_then(telemetry) {
        return Ok(route);
    }
    let slug = n.get("slug").and_then(Value::as_str).unwrap_or("");
    let has_deployment = n.pointer("/parameters/deployment_id").is_some_and(|d| !d.is_null());
    if has_deployment {
        return match DEPLOYMENT_SLUGS.iter().find(|(s, _)| *s == slug) {
            Some((_, workflow)) => Ok(Route {
                family: Family::Deployment,
                workflow: (*workflow).to_owned(),
            }),
            None => Err(RouteError::UnknownDeploymentSlug { slug: slug.to_owned() }),
        };
    }
    let kind = n.get("type").and_then(Value::as_str).unwrap_or("");
    // Custom slugs name workflows with dashes where the files have underscores
    // (`adjust-provisioned-concurrency` → adjust_provisioned_concurrency), as the
    // incumbent maps them. `update-scope` is the platform's update action declared
    // as custom: it goes to update (the incumbent sent it to a workflow that does
    // not exist).
    let custom;
    let workflow = match kind {
        "custom" => match slug {
            "delete-scope" => "delete",
            "diagnose-scope" => "diagnose",
            "update-scope" => "update",
            "" => return Err(RouteError::CustomWithoutSlug),
            other => {
                // The slug as given must be a plain name: `-rf` is refused, not
                // turned into `_rf`.
                check_workflow_name(other, "slug")?;
                custom = other.replace('-', "_");
                custom.as_str()
            }
        },
        "" => return Err(RouteError::ScopeWithoutType),
        other => other,
    };
    check_workflow_name(workflow, if kind == "custom" { "slug" } else { "type" })?;
    Ok(Route {
        family: Family::Scope,
        workflow: workflow.to_owned(),
    })
}

/// A notification's field becomes a file name under the service folder: only a
/// plain name may (letters, digits, `-`, `_`), never `..`, a separator or an
/// absolute path that would reach a workflow file anywhere on the disk.
fn check_workflow_name(name: &str, field: &'static str) -> Result<(), RouteError> {
    let plain = !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && !name.starts_with('-');
    if plain {
        Ok(())
    } else {
        Err(RouteError::NotAWorkflowName {
            field,
            name: name.chars().take(200).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_rule() {
        for (slug, workflow) in DEPLOYMENT_SLUGS {
            let n = json!({"notification": {"action": "x", "slug": slug, "type": "deployment", "parameters": {"scope_id": 11, "deployment_id": 7}}});
            assert_eq!(
                route(&n).unwrap(),
                Route {
                    family: Family::Deployment,
                    workflow: workflow.into()
                },
                "{slug}"
            );
        }
        let e = route(&json!({"notification": {"slug": "explode", "parameters": {"deployment_id": 1}}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown slug `explode`") && e.contains("start-initial"), "{e}");
        let scope = |t: &str, s: &str| route(&json!({"notification": {"type": t, "slug": s, "parameters": {"scope_id": 11}}}));
        assert_eq!(scope("custom", "delete-scope").unwrap().workflow, "delete");
        assert_eq!(scope("custom", "diagnose-scope").unwrap().workflow, "diagnose");
        assert_eq!(scope("custom", "restart").unwrap().workflow, "restart");
        assert_eq!(scope("custom", "update-scope").unwrap().workflow, "update");
        for (action, family, workflow) in [
            ("log:read", Family::Log, "read"),
            ("metric:list", Family::Metric, "list"),
            ("metric:data", Family::Metric, "data"),
            ("metric:anything", Family::Metric, "data"),
            ("instance:data", Family::Instance, "data"),
        ] {
            // Before the deployment rules: a deployment id does not matter.
            let n = json!({"notification": {"action": action, "parameters": {"deployment_id": 7}}});
            assert_eq!(
                route(&n).unwrap(),
                Route {
                    family,
                    workflow: workflow.into()
                },
                "{action}"
            );
        }
        assert_eq!(scope("update", "").unwrap().workflow, "update");
        assert_eq!(scope("create", "create-scope").unwrap().workflow, "create");
        assert_eq!(scope("custom", "invoke").unwrap().workflow, "invoke");
        assert_eq!(
            scope("custom", "adjust-provisioned-concurrency").unwrap().workflow,
            "adjust_provisioned_concurrency"
        );
        assert_eq!(
            scope("custom", "adjust-reserved-concurrency").unwrap().workflow,
            "adjust_reserved_concurrency"
        );
        assert_eq!(
            scope("create", "whatever").unwrap(),
            Route {
                family: Family::Scope,
                workflow: "create".into()
            }
        );
        assert!(scope("", "x").is_err());
        // A null deployment id is a scope notification.
        let n = json!({"notification": {"type": "create", "parameters": {"deployment_id": null}}});
        assert_eq!(route(&n).unwrap().family, Family::Scope);
        assert!(route(&json!([1])).is_err());
    }

    #[test]
    fn notification_fields_never_become_paths() {
        let scope = |t: &str, s: &str| route(&json!({"notification": {"type": t, "slug": s, "parameters": {"scope_id": 11}}}));
        for hostile in [
            "/etc/passwd",
            "../../outside",
            "..",
            "a/b",
            "a\\b",
            "create\u{0}",
            "~root",
            "-rf",
            "x.yaml",
        ] {
            let e = scope(hostile, "").unwrap_err().to_string();
            assert!(e.contains("not a workflow name") && e.contains("`type`"), "{hostile}: {e}");
            let e = scope("custom", hostile).unwrap_err().to_string();
            assert!(e.contains("`slug`"), "{hostile}: {e}");
        }
        assert_eq!(scope("update-scope", "").unwrap().workflow, "update-scope");
        // The name is shown as a JSON string, so controls and quotes are escaped.
        assert_eq!(
            scope("a/\"b", "").unwrap_err().to_string(),
            "the notification's `type` \"a/\\\"b\" is not a workflow name (letters, digits, `-` and `_` only): it names a file under <service>/scope/workflows/ and cannot be a path"
        );
    }
}
