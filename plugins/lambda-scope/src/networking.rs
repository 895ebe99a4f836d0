//! Names and choices of the scope's networking, shared by the steps that make it
//! and the one that removes it.

use scope_step::prelude::*;

/// The statement the HTTP API's permission to invoke the main alias carries.
pub const API_PERMISSION_SID: &str = "AllowAPIGatewayInvoke";
/// The statement the load balancer's permission carries.
pub const ALB_PERMISSION_SID: &str = "AllowALBInvoke";

/// The HTTP API's name: `<namespace>-<application>-<scope>`.
pub fn api_name() -> Result<String, StepError> {
    Ok(format!(
        "{}-{}-{}",
        require_var("NAMESPACE_SLUG")?,
        require_var("APPLICATION_SLUG")?,
        require_var("SCOPE_SLUG")?
    ))
}

/// The target group's name: the scope id first, so two scopes never share one
/// (the incumbent's `<ns:10>-<app:10>-<scope:8>` could collide), then as much of
/// the slugs as ELB's 32 characters allow; letters, digits and hyphens only.
pub fn target_group_name(scope_id: &str, application: &str, scope: &str) -> String {
    let raw = format!("{scope_id}-{application}-{scope}");
    let mut name: String = raw
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .take(32)
        .collect();
    while name.ends_with('-') {
        name.pop();
    }
    name
}

/// The main alias's ARN, which the entry point invokes.
pub fn alias_arn(region: &str, account: &str, function: &str, alias: &str) -> String {
    format!("arn:aws:lambda:{region}:{account}:function:{function}:{alias}")
}

/// The account resources live in: the provider's, else the identity's.
pub fn account() -> Result<String, StepError> {
    match var("AWS_ACCOUNT_ID").filter(|a| !a.is_empty()) {
        Some(a) => Ok(a),
        None => Ok(scope_step::credentials::current_identity()?.account()),
    }
}

/// The lowest priority in 1..=50000 no rule uses; `None` when the listener holds
/// `capacity` rules already.
pub fn free_priority(used: &[u32], capacity: usize) -> Option<u32> {
    if used.len() >= capacity {
        return None;
    }
    (1..=50_000).find(|p| !used.contains(p))
}

/// The scope's domain: SCOPE_DOMAIN when the scope has one, else
/// `<namespace>-<application>-<scope>[.<account>].<zone>`.
pub fn domain(zone: &str) -> Result<String, StepError> {
    if let Some(d) = var("SCOPE_DOMAIN").filter(|d| !d.is_empty()) {
        return Ok(d.trim_end_matches('.').to_owned());
    }
    let mut name = api_name()?;
    if crate::var_or("USE_ACCOUNT_SLUG", "false") == "true" {
        name = format!("{name}.{}", require_var("ACCOUNT_SLUG")?);
    }
    Ok(format!("{name}.{}", zone.trim_end_matches('.')))
}

/// The hosted zone the scope's record goes in: the public zone for a public
/// scope, the private one (else the public one) for a private scope.
pub fn zone_id(visibility: &str) -> Option<String> {
    let public = var("HOSTED_PUBLIC_ZONE_ID").filter(|z| !z.is_empty());
    let private = var("HOSTED_ZONE_ID").filter(|z| !z.is_empty());
    match visibility {
        "public" => public,
        _ => private.or(public),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_group_names_lead_with_the_scope_and_fit_elb() {
        assert_eq!(target_group_name("11", "my-app", "my-scope"), "11-my-app-my-scope");
        let long = target_group_name("1234", "a-very-long-application-name", "and-scope");
        assert!(long.len() <= 32 && long.starts_with("1234-") && !long.ends_with('-'), "{long}");
        assert_eq!(target_group_name("7", "app_x", "s.y"), "7-app-x-s-y");
    }

    #[test]
    fn the_lowest_free_priority_within_capacity() {
        assert_eq!(free_priority(&[], 100), Some(1));
        assert_eq!(free_priority(&[1, 2, 4], 100), Some(3));
        assert_eq!(free_priority(&[1, 2], 2), None);
    }
}
