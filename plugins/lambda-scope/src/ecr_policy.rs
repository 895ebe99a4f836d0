//! The statement that lets Lambda pull a private ECR image, merged into the
//! repository's existing policy (the bash step replaced the whole policy: fixed).

use scope_step::Explain;
use serde_json::{json, Value};

/// The statement id the bash steps used; kept so old and new runs converge.
pub const SID: &str = "LambdaECRImageRetrievalPolicy";

/// The pull statement, limited to functions of `source_account`.
pub fn statement(source_account: &str) -> Value {
    json!({
        "Sid": SID,
        "Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"},
        "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        "Condition": {"StringLike": {"aws:sourceArn": format!("arn:aws:lambda:*:{source_account}:function:*")}}
    })
}

/// Merges the pull statement into `existing` (None: no policy yet). Returns the new
/// policy text, or `None` when the policy already holds exactly that statement.
/// Other statements are kept as they are; a statement with the same Sid is replaced.
pub fn merge(existing: Option<&str>, source_account: &str) -> Result<Option<String>, String> {
    let mut policy = match existing {
        Some(text) if !text.trim().is_empty() => {
            serde_json::from_str::<Value>(text).map_err(|e| format!("the repository policy is not JSON: {e}"))?
        }
        _ => json!({"Version": "2012-10-17", "Statement": []}),
    };
    let wanted = statement(source_account);
    let obj = policy.as_object_mut().ok_or("the repository policy is not a JSON object")?;
    let statements = obj.entry("Statement").or_insert_with(|| json!([]));
    if statements.is_object() {
        *statements = json!([statements.clone()]);
    }
    let list = statements.as_array_mut().ok_or("the repository policy's Statement is not a list")?;
    match list.iter().position(|s| s.get("Sid").and_then(Value::as_str) == Some(SID)) {
        Some(i) if list[i] == wanted => return Ok(None),
        Some(i) => list[i] = wanted,
        None => list.push(wanted),
    }
    obj.entry("Version").or_insert_with(|| json!("2012-10-17"));
    Ok(Some(policy.to_string()))
}

/// Makes sure Lambda may pull the image. Never fails the step.
pub fn ensure_pull(image: &crate::uri::EcrImage, function_account: &str) {
    let repo = scope_step::ecr::RepositoryRef {
        registry_id: Some(image.account.clone()),
        region: Some(image.region.clone()),
        name: image.repository.clone(),
    };
    let existing = match scope_step::ecr::get_repository_policy(&repo) {
        Ok(p) => Some(p),
        Err(scope_step::CallError::Cloud(c)) if c.code == "RepositoryPolicyNotFoundException" => None,
        Err(e) => {
            scope_step::log::warn(&format!(
                "could not read the policy of ECR repository {} in {}: {}; continuing",
                image.repository,
                image.account,
                e.explain()
            ));
            return;
        }
    };
    match merge(existing.as_deref(), function_account) {
        Ok(None) => scope_step::log::info(&format!("ECR repository {} already lets Lambda pull", image.repository)),
        Ok(Some(policy)) => match scope_step::ecr::set_repository_policy(&repo, &policy) {
            Ok(()) => scope_step::log::info(&format!(
                "ECR repository {} now lets Lambda functions of {function_account} pull",
                image.repository
            )),
            Err(e) => scope_step::log::warn(&format!(
                "could not update the policy of ECR repository {}: {}; continuing",
                image.repository,
                e.explain()
            )),
        },
        Err(e) => scope_step::log::warn(&format!("ECR repository {}: {e}; continuing", image.repository)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_keeps_others_and_is_idempotent() {
        let existing = r#"{"Version":"2012-10-17","Statement":[{"Sid":"CI","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"ecr:*"}]}"#;
        let merged = merge(Some(existing), "123456789012").unwrap().unwrap();
        let v: Value = serde_json::from_str(&merged).unwrap();
        let sids: Vec<&str> = v["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(sids, ["CI", SID]);
        assert!(merged.contains("arn:aws:lambda:*:123456789012:function:*"));
        assert_eq!(merge(Some(&merged), "123456789012").unwrap(), None, "a second run changes nothing");
        // A stale statement (another account) is replaced, not duplicated.
        let again = merge(Some(&merged), "210987654321").unwrap().unwrap();
        assert_eq!(again.matches(SID).count(), 1);
        assert!(merge(None, "123456789012").unwrap().unwrap().contains(SID));
        assert!(merge(Some("{not json"), "1").is_err());
    }
}
