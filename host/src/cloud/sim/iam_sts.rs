//! IAM and STS in the sim: the agent's identity, AssumeRole against fixture roles'
//! trust policies, and GetRole.

use super::errors::Service;
use super::errors::{Api, Fault};
use super::policy;
use super::state::{arn_account, assumed_role_of, sha256_hex, RoleState, Session, State};
use super::SimCloud;
use crate::cloud::{AssumeRoleRequest, AttachedPolicy, CallCtx, CreateRole, Credentials, Identity, Role};
use crate::cloud::{CloudResult, IamApi, StsApi};
use serde_json::Value;

/// Where the sim's clock starts; it moves only when a test advances it.
pub(super) const VIRTUAL_EPOCH: u64 = 1_900_000_000;

const VALIDATION: &str = "ValidationError";

/// `1 validation error detected: …`, STS's wording for a malformed parameter.
fn invalid_param(value: &str, field: &str, constraint: &str) -> Fault {
    Fault::new(
        VALIDATION,
        format!("1 validation error detected: Value '{value}' at '{field}' failed to satisfy constraint: {constraint}"),
    )
}

/// Role session names: 2–64 characters of `[\w+=,.@-]`.
fn check_session_name(name: &str) -> Result<(), Fault> {
    let len = name.chars().count();
    if len < 2 {
        return Err(invalid_param(
            name,
            "roleSessionName",
            "Member must have length greater than or equal to 2",
        ));
    }
    if len > 64 {
        return Err(invalid_param(
            name,
            "roleSessionName",
            "Member must have length less than or equal to 64",
        ));
    }
    let allowed = |c: char| c.is_ascii_alphanumeric() || "_+=,.@-".contains(c);
    if !name.chars().all(allowed) {
        return Err(invalid_param(
            name,
            "roleSessionName",
            r"Member must satisfy regular expression pattern: [\w+=,.@-]*",
        ));
    }
    Ok(())
}

/// `arn:aws:iam::<12 digits>:role/<path and name>`.
fn check_role_arn(arn: &str) -> Result<(), Fault> {
    let valid = arn
        .strip_prefix("arn:aws:iam::")
        .and_then(|rest| rest.split_once(':'))
        .is_some_and(|(account, resource)| {
            account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource
                    .strip_prefix("role/")
                    .is_some_and(|name| !name.is_empty() && !name.ends_with('/'))
        });
    if valid {
        Ok(())
    } else {
        Err(Fault::new(VALIDATION, "Request ARN is invalid"))
    }
}

impl State {
    /// The fixture's agent: no credentials, no expiry.
    pub(super) fn sts_agent_identity(&self) -> Identity {
        Identity {
            arn: self.agent_arn.clone(),
            // Checked when the fixture was loaded.
            account: arn_account(&self.agent_arn).unwrap_or(&self.account_id).to_string(),
            expires_at: None,
            credentials: None,
        }
    }

    /// The names a trust policy may call the caller by.
    fn principal_names(&self, caller: &Identity) -> Vec<String> {
        let mut names = vec![
            caller.account.clone(),
            format!("arn:aws:iam::{}:root", caller.account),
            caller.arn.clone(),
        ];
        if let Some((account, role)) = assumed_role_of(&caller.arn) {
            names.push(format!("arn:aws:iam::{account}:role/{role}"));
            // A role with a path is named by its full ARN in trust policies.
            if let Some(r) = self.roles.get(&(account.to_string(), role.to_string())) {
                names.push(r.arn());
            }
        }
        names
    }

    /// AssumeRole as `ctx.identity`: the caller must be allowed `sts:AssumeRole`, the
    /// role must exist and its trust policy must name the caller.
    pub(super) fn sts_assume_role(&mut self, ctx: &CallCtx, api: Api, req: &AssumeRoleRequest) -> Result<Identity, Fault> {
        check_role_arn(&req.role_arn)?;
        check_session_name(&req.session_name)?;
        let duration = req.duration_seconds;
        if duration < 900 {
            return Err(invalid_param(
                &duration.to_string(),
                "durationSeconds",
                "Member must have value greater than or equal to 900",
            ));
        }
        if duration > 43200 {
            return Err(invalid_param(
                &duration.to_string(),
                "durationSeconds",
                "Member must have value less than or equal to 43200",
            ));
        }
        let session_policy = match &req.session_policy {
            None => None,
            Some(text) => Some(
                serde_json::from_str::<Value>(text)
                    .map_err(|_| Fault::new("MalformedPolicyDocument", "The policy is not in the valid JSON format."))?,
            ),
        };
        self.authorize(ctx, api, &req.role_arn)?;
        let trusted = self
            .roles
            .values()
            .find(|r| r.arn() == req.role_arn)
            .filter(|role| policy::trust_allows(&role.trust_policy, &self.principal_names(&ctx.identity)));
        // An unknown role and an untrusting one look alike to the caller, as in AWS.
        let Some(role) = trusted.cloned() else {
            return Err(Fault::access_denied(
                api.service,
                &ctx.identity.arn,
                &api.action(),
                &req.role_arn,
                None,
            ));
        };
        if duration > role.max_session_duration {
            return Err(Fault::new(
                VALIDATION,
                "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
            ));
        }
        let credentials = self.mint_credentials(&role, &req.session_name);
        if let Some(policy) = session_policy {
            self.sessions.insert(credentials.access_key_id.clone(), Session { policy });
        }
        Ok(Identity {
            arn: format!("arn:aws:sts::{}:assumed-role/{}/{}", role.account, role.name, req.session_name),
            account: role.account,
            expires_at: Some(self.clock + u64::from(duration)),
            credentials: Some(credentials),
        })
    }

    /// Fake but well-formed credentials, different for every session and the same
    /// for every run of the same calls.
    fn mint_credentials(&mut self, role: &RoleState, session_name: &str) -> Credentials {
        self.counters.sessions += 1;
        let seed = format!("{}|{session_name}|{}", role.arn(), self.counters.sessions);
        let key_hash = sha256_hex(&format!("access-key:{seed}")).to_ascii_uppercase();
        Credentials {
            access_key_id: format!("ASIASIM{}", &key_hash[..13]),
            secret_access_key: sha256_hex(&format!("secret-key:{seed}"))[..40].to_string(),
            session_token: Some(format!("SIMTOKEN{}", sha256_hex(&format!("session-token:{seed}")))),
        }
    }

    /// GetRole by name, in the caller's account.
    pub(super) fn iam_get_role(&mut self, ctx: &CallCtx, api: Api, role_name: &str) -> Result<Role, Fault> {
        let account = ctx.identity.account.clone();
        let role = self.roles.get(&(account.clone(), role_name.to_string())).cloned();
        let resource = role
            .as_ref()
            .map_or_else(|| format!("arn:aws:iam::{account}:role/{role_name}"), RoleState::arn);
        self.authorize(ctx, api, &resource)?;
        let role = role.ok_or_else(|| Fault::new("NoSuchEntity", format!("The role with name {role_name} cannot be found.")))?;
        Ok(role.answer())
    }
}

// The service as the simulated cloud serves it: each call runs on the state
// under the cloud's lock (see `SimCloud::call`).

#[async_trait::async_trait]
impl StsApi for SimCloud {
    async fn agent_identity(&self) -> CloudResult<Identity> {
        self.call(Api::new(Service::Sts, "GetCallerIdentity"), |st, _| Ok(st.sts_agent_identity()))
            .await
    }

    async fn assume_role(&self, ctx: &CallCtx, req: &AssumeRoleRequest) -> CloudResult<Identity> {
        self.call(Api::new(Service::Sts, "AssumeRole"), |st, api| st.sts_assume_role(ctx, api, req))
            .await
    }
}

impl RoleState {
    /// The role as GetRole answers it.
    pub(super) fn answer(&self) -> Role {
        let arn = self.arn();
        Role {
            role_name: self.name.clone(),
            role_id: format!("AROA{}", &sha256_hex(&arn).to_ascii_uppercase()[..17]),
            arn,
            assume_role_policy_document: self.trust_policy.to_string(),
            max_session_duration: self.max_session_duration,
            description: self.description.clone(),
            permissions_boundary: self.permissions_boundary.clone(),
            tags: self.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        }
    }
}

#[async_trait::async_trait]
impl IamApi for SimCloud {
    async fn get_role(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Role> {
        self.call(Api::new(Service::Iam, "GetRole"), |st, api| st.iam_get_role(ctx, api, role_name))
            .await
    }

    async fn create_role(&self, ctx: &CallCtx, req: &CreateRole) -> CloudResult<Role> {
        self.call(Api::new(Service::Iam, "CreateRole"), |st, api| st.iam_create_role(ctx, api, req))
            .await
    }

    async fn update_assume_role_policy(&self, ctx: &CallCtx, role_name: &str, document: &str) -> CloudResult<()> {
        self.call(Api::new(Service::Iam, "UpdateAssumeRolePolicy"), |st, api| {
            let trust = parse_document(document)?;
            st.iam_role_mut(ctx, api, role_name)?.trust_policy = trust;
            Ok(())
        })
        .await
    }

    async fn tag_role(&self, ctx: &CallCtx, role_name: &str, tags: &[(String, String)]) -> CloudResult<()> {
        self.call(Api::new(Service::Iam, "TagRole"), |st, api| {
            let role = st.iam_role_mut(ctx, api, role_name)?;
            role.tags.extend(tags.iter().cloned());
            Ok(())
        })
        .await
    }

    async fn put_role_permissions_boundary(&self, ctx: &CallCtx, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        self.call(Api::new(Service::Iam, "PutRolePermissionsBoundary"), |st, api| {
            st.iam_role_mut(ctx, api, role_name)?.permissions_boundary = Some(policy_arn.to_string());
            Ok(())
        })
        .await
    }

    async fn delete_role(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<()> {
        self.call(Api::new(Service::Iam, "DeleteRole"), |st, api| {
            st.iam_delete_role(ctx, api, role_name)
        })
        .await
    }

    async fn put_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_name: &str, document: &str) -> CloudResult<()> {
        self.call(Api::new(Service::Iam, "PutRolePolicy"), |st, api| {
            let document = parse_document(document)?;
            st.iam_role_mut(ctx, api, role_name)?
                .inline_policies
                .insert(policy_name.to_string(), document);
            Ok(())
        })
        .await
    }

    async fn get_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_name: &str) -> CloudResult<String> {
        self.call(Api::new(Service::Iam, "GetRolePolicy"), |st, api| {
            let role = st.iam_role_mut(ctx, api, role_name)?;
            role.inline_policies
                .get(policy_name)
                .map(Value::to_string)
                .ok_or_else(|| no_role_policy(role_name, policy_name))
        })
        .await
    }

    async fn list_role_policies(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Vec<String>> {
        self.call(Api::new(Service::Iam, "ListRolePolicies"), |st, api| {
            Ok(st.iam_role_mut(ctx, api, role_name)?.inline_policies.keys().cloned().collect())
        })
        .await
    }

    async fn delete_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_name: &str) -> CloudResult<()> {
        self.call(Api::new(Service::Iam, "DeleteRolePolicy"), |st, api| {
            let role = st.iam_role_mut(ctx, api, role_name)?;
            role.inline_policies
                .remove(policy_name)
                .map(|_| ())
                .ok_or_else(|| no_role_policy(role_name, policy_name))
        })
        .await
    }

    async fn attach_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        self.call(Api::new(Service::Iam, "AttachRolePolicy"), |st, api| {
            st.iam_role_mut(ctx, api, role_name)?
                .attached_policies
                .insert(policy_arn.to_string());
            Ok(())
        })
        .await
    }

    async fn detach_role_policy(&self, ctx: &CallCtx, role_name: &str, policy_arn: &str) -> CloudResult<()> {
        self.call(Api::new(Service::Iam, "DetachRolePolicy"), |st, api| {
            if st.iam_role_mut(ctx, api, role_name)?.attached_policies.remove(policy_arn) {
                Ok(())
            } else {
                Err(Fault::new("NoSuchEntity", format!("Policy {policy_arn} was not found.")))
            }
        })
        .await
    }

    async fn list_attached_role_policies(&self, ctx: &CallCtx, role_name: &str) -> CloudResult<Vec<AttachedPolicy>> {
        self.call(Api::new(Service::Iam, "ListAttachedRolePolicies"), |st, api| {
            let role = st.iam_role_mut(ctx, api, role_name)?;
            Ok(role
                .attached_policies
                .iter()
                .map(|arn| AttachedPolicy {
                    policy_name: arn.rsplit('/').next().unwrap_or(arn).to_string(),
                    policy_arn: arn.clone(),
                })
                .collect())
        })
        .await
    }
}

fn no_role_policy(role_name: &str, policy_name: &str) -> Fault {
    Fault::new(
        "NoSuchEntity",
        format!("The role policy with name {policy_name} cannot be found on role {role_name}."),
    )
}

/// A policy document as IAM takes it: a JSON object with a `Statement`.
pub(super) fn parse_document(document: &str) -> Result<Value, Fault> {
    match serde_json::from_str::<Value>(document) {
        Ok(v) if matches!(v.get("Statement"), Some(Value::Array(_) | Value::Object(_))) => Ok(v),
        Ok(_) => Err(Fault::new("MalformedPolicyDocument", "Syntax errors in policy.")),
        Err(_) => Err(Fault::new("MalformedPolicyDocument", "This policy contains invalid Json")),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{agent, as_role, err, ok, sim};
    use super::*;
    #[allow(unused_imports)]
    use crate::cloud::{CloudBase, EcrApi, IamApi, LambdaApi, SecretsApi, StsApi, TaggingApi};
    use crate::cloud::{CreateSecret, RepositoryRef, UpdateCode};
    use serde_json::json;

    const ACCOUNT: &str = "123456789012";
    const AGENT: &str = "arn:aws:iam::123456789012:user/np-agent";
    const OTHER: &str = "210987654321";

    fn trust(principal: serde_json::Value) -> serde_json::Value {
        json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole"}]})
    }

    fn fixture() -> serde_json::Value {
        json!({"iam": {"roles": [
            {"name": "by-account", "assume_role_policy_document": trust(json!({"AWS": ACCOUNT}))},
            {"name": "by-root", "account_id": OTHER, "assume_role_policy_document": trust(json!({"AWS": [format!("arn:aws:iam::{ACCOUNT}:root")]}))},
            {"name": "by-arn", "path": "/agents/", "assume_role_policy_document": trust(json!({"AWS": AGENT}))},
            {"name": "by-star", "assume_role_policy_document": trust(json!({"AWS": "*"}))},
            {"name": "stranger", "assume_role_policy_document": trust(json!({"AWS": format!("arn:aws:iam::{OTHER}:root")}))},
            {"name": "service-only", "assume_role_policy_document": trust(json!({"Service": "lambda.amazonaws.com"}))},
            {"name": "chained", "assume_role_policy_document": trust(json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:role/by-account")}))},
            {"name": "trusts-pathed", "assume_role_policy_document": trust(json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:role/agents/by-arn")}))},
            {"name": "trusts-ghost", "assume_role_policy_document": trust(json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:role/ghost")}))},
            {"name": "short", "max_session_duration": 3600},
            {"name": "readonly", "allowed_actions": ["lambda:Get*", "sts:AssumeRole", "ECR:getrepositorypolicy"]}
        ]}, "lambda": {"functions": [{"name": "f", "image_uri": "img"}]}})
    }

    fn assume(role_arn: &str, session: &str, duration: u32) -> AssumeRoleRequest {
        AssumeRoleRequest {
            role_arn: role_arn.to_string(),
            session_name: session.to_string(),
            session_policy: None,
            duration_seconds: duration,
        }
    }

    fn role(account: &str, name: &str) -> String {
        format!("arn:aws:iam::{account}:role/{name}")
    }

    #[tokio::test]
    async fn the_agent_identity_comes_from_the_fixture_and_holds_no_keys() {
        let sim = sim(json!({"agent": {"arn": "arn:aws:iam::555555555555:user/other-agent"}}));
        let id = ok(sim.agent_identity().await);
        assert_eq!(
            id,
            Identity {
                arn: "arn:aws:iam::555555555555:user/other-agent".into(),
                account: "555555555555".into(),
                expires_at: None,
                credentials: None
            }
        );
    }

    #[tokio::test]
    async fn assume_role_follows_the_trust_policy() {
        let sim = sim(fixture());
        let ctx = agent(&sim).await;
        let trusted = [
            (role(ACCOUNT, "by-account"), ACCOUNT),
            (role(OTHER, "by-root"), OTHER),
            (role(ACCOUNT, "agents/by-arn"), ACCOUNT),
            (role(ACCOUNT, "by-star"), ACCOUNT),
            // The default trust policy trusts the role's own account.
            (role(ACCOUNT, "short"), ACCOUNT),
        ];
        for (arn, account) in trusted {
            let id = ok(sim.assume_role(&ctx, &assume(&arn, "np-lambda-11", 1800)).await);
            let name = arn.rsplit('/').next().unwrap_or_default();
            assert_eq!(id.arn, format!("arn:aws:sts::{account}:assumed-role/{name}/np-lambda-11"));
            assert_eq!((id.account.as_str(), id.expires_at), (account, Some(VIRTUAL_EPOCH + 1800)));
        }
        let refused = [
            role(ACCOUNT, "stranger"),
            role(ACCOUNT, "service-only"),
            role(ACCOUNT, "no-such-role"),
            // The role exists but under a path: its ARN is a different one.
            role(ACCOUNT, "by-arn"),
            role(OTHER, "by-account"),
        ];
        for arn in refused {
            let e = err(sim.assume_role(&ctx, &assume(&arn, "np-lambda-11", 3600)).await);
            assert_eq!(
                (e.service.as_str(), e.operation.as_str(), e.code.as_str()),
                ("sts", "AssumeRole", "AccessDenied")
            );
            assert_eq!(
                e.message,
                format!("User: {AGENT} is not authorized to perform: sts:AssumeRole on resource: {arn}")
            );
        }
    }

    #[tokio::test]
    async fn assume_role_validates_its_parameters() {
        let sim = sim(fixture());
        let ctx = agent(&sim).await;
        let good = role(ACCOUNT, "by-account");
        let cases = [
            (assume(&good, "a", 3600), "Member must have length greater than or equal to 2"),
            (
                assume(&good, &"a".repeat(65), 3600),
                "Member must have length less than or equal to 64",
            ),
            (assume(&good, "has space", 3600), r"regular expression pattern: [\w+=,.@-]*"),
            (assume(&good, "slash/no", 3600), "roleSessionName"),
            (assume("arn:aws:iam::12345:role/x", "ok-name", 3600), "Request ARN is invalid"),
            (
                assume("arn:aws:iam::123456789012:user/x", "ok-name", 3600),
                "Request ARN is invalid",
            ),
            (assume("not-an-arn", "ok-name", 3600), "Request ARN is invalid"),
            (assume(&good, "ok-name", 899), "greater than or equal to 900"),
            (assume(&role(ACCOUNT, "short"), "ok-name", 3601), "exceeds the MaxSessionDuration"),
        ];
        for (req, message) in cases {
            let e = err(sim.assume_role(&ctx, &req).await);
            assert_eq!(e.code, "ValidationError", "{req:?}");
            assert!(e.message.contains(message), "{req:?}: {e}");
        }
        // Every character class AWS allows.
        ok(sim.assume_role(&ctx, &assume(&good, "a_Z9+=,.@-x", 3600)).await);
        let bad_policy = AssumeRoleRequest {
            session_policy: Some("{not json".into()),
            ..assume(&good, "ok-name", 3600)
        };
        assert_eq!(err(sim.assume_role(&ctx, &bad_policy).await).code, "MalformedPolicyDocument");
    }

    #[tokio::test]
    async fn sessions_get_distinct_deterministic_credentials() {
        let run = || async {
            let sim = sim(fixture());
            let ctx = agent(&sim).await;
            let arn = role(ACCOUNT, "by-account");
            let a = ok(sim.assume_role(&ctx, &assume(&arn, "s1", 3600)).await);
            let b = ok(sim.assume_role(&ctx, &assume(&arn, "s1", 3600)).await);
            (a.credentials.expect("credentials"), b.credentials.expect("credentials"))
        };
        let (a, b) = run().await;
        assert!(a.access_key_id.starts_with("ASIASIM") && a.access_key_id.len() == 20, "{a:?}");
        assert!(a.access_key_id.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()));
        assert_eq!(a.secret_access_key.len(), 40);
        assert!(a.session_token.as_deref().is_some_and(|t| t.len() > 40));
        assert_ne!(a.access_key_id, b.access_key_id);
        assert_ne!(a.secret_access_key, b.secret_access_key);
        assert_eq!(run().await, (a, b), "the same calls give the same credentials");
    }

    #[tokio::test]
    async fn a_role_session_may_assume_a_role_that_trusts_its_role() {
        let sim = sim(fixture());
        let first = as_role(&sim, &role(ACCOUNT, "by-account"), None).await;
        let chained = ok(sim.assume_role(&first, &assume(&role(ACCOUNT, "chained"), "hop", 3600)).await);
        assert_eq!(chained.arn, format!("arn:aws:sts::{ACCOUNT}:assumed-role/chained/hop"));
        let other = as_role(&sim, &role(ACCOUNT, "by-star"), None).await;
        let e = err(sim.assume_role(&other, &assume(&role(ACCOUNT, "chained"), "hop", 3600)).await);
        assert!(
            e.message.starts_with(&format!(
                "User: arn:aws:sts::{ACCOUNT}:assumed-role/by-star/test-session is not authorized"
            )),
            "{e}"
        );
        // A role with a path is trusted under its full ARN.
        let pathed = as_role(&sim, &role(ACCOUNT, "agents/by-arn"), None).await;
        ok(sim
            .assume_role(&pathed, &assume(&role(ACCOUNT, "trusts-pathed"), "hop", 3600))
            .await);
        // A session of a role the sim does not know (made elsewhere) is named by its role ARN.
        let ghost = CallCtx {
            identity: Identity {
                arn: format!("arn:aws:sts::{ACCOUNT}:assumed-role/ghost/elsewhere"),
                account: ACCOUNT.to_string(),
                expires_at: None,
                credentials: None,
            },
            region: "us-east-1".to_string(),
        };
        ok(sim.assume_role(&ghost, &assume(&role(ACCOUNT, "trusts-ghost"), "hop", 3600)).await);
        assert_eq!(
            err(sim.assume_role(&ghost, &assume(&role(ACCOUNT, "trusts-pathed"), "hop", 3600)).await).code,
            "AccessDenied"
        );
    }

    #[tokio::test]
    async fn allowed_actions_limit_what_a_role_session_may_call() {
        let sim = sim(fixture());
        let ctx = as_role(&sim, &role(ACCOUNT, "readonly"), None).await;
        let caller = format!("arn:aws:sts::{ACCOUNT}:assumed-role/readonly/test-session");
        let fn_arn = format!("arn:aws:lambda:us-east-1:{ACCOUNT}:function:f");
        // Allowed by `lambda:Get*` (and by a pattern in another case).
        ok(sim.get_function(&ctx, "f", None).await);
        let repo = RepositoryRef {
            registry_id: None,
            region: None,
            name: "r".into(),
        };
        assert_eq!(
            err(sim.get_repository_policy(&ctx, &repo).await).code,
            "RepositoryNotFoundException"
        );

        let update = UpdateCode {
            function_name: "f".into(),
            code: crate::cloud::CodeSource::Image("img2".into()),
            architectures: None,
            revision_id: None,
        };
        let e = err(sim.update_function_code(&ctx, &update).await);
        assert_eq!(e.code, "AccessDeniedException");
        assert_eq!(
            e.message,
            format!("User: {caller} is not authorized to perform: lambda:UpdateFunctionCode on resource: {fn_arn} because no identity-based policy allows the lambda:UpdateFunctionCode action")
        );
        let e = err(sim.get_role(&ctx, "readonly").await);
        assert_eq!((e.code.as_str(), e.service.as_str()), ("AccessDenied", "iam"));
        assert!(
            e.message
                .contains("iam:GetRole on resource: arn:aws:iam::123456789012:role/readonly"),
            "{e}"
        );
        let e = err(sim.get_resources(&ctx, &[], &[]).await);
        assert_eq!(e.code, "AccessDeniedException");
        assert!(e.message.contains("tag:GetResources on resource: *"), "{e}");
        let secret = CreateSecret {
            name: "s".into(),
            description: String::new(),
            secret_string: "v".into(),
            tags: vec![],
        };
        assert_eq!(err(sim.create_secret(&ctx, &secret).await).code, "AccessDeniedException");
        // The agent itself may do anything.
        let agent_ctx = agent(&sim).await;
        ok(sim.update_function_code(&agent_ctx, &update).await);
    }

    #[tokio::test]
    async fn a_session_policy_narrows_the_session_by_action_and_resource() {
        let sim = sim(fixture());
        let policy = json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["lambda:GetFunction"], "Resource": ["arn:aws:lambda:*:*:function:f", "arn:aws:lambda:*:*:function:f:*"]},
            {"Effect": "Allow", "Action": "secretsmanager:CreateSecret", "Resource": "arn:aws:secretsmanager:*:*:secret:nullplatform/*"}
        ]})
        .to_string();
        let ctx = as_role(&sim, &role(ACCOUNT, "by-account"), Some(&policy)).await;
        ok(sim.get_function(&ctx, "f", None).await);
        let e = err(sim.get_function(&ctx, "g", None).await);
        assert_eq!(e.code, "AccessDeniedException", "resource outside the session policy");
        assert!(
            e.message
                .ends_with("because no session policy allows the lambda:GetFunction action"),
            "{e}"
        );
        assert_eq!(
            err(sim.get_function_configuration(&ctx, "f", None).await).code,
            "AccessDeniedException"
        );
        let secret = |tags: Vec<(String, String)>| CreateSecret {
            name: "nullplatform/11/d/parameters".into(),
            description: String::new(),
            secret_string: "{}".into(),
            tags,
        };
        // Tagging at creation also needs secretsmanager:TagResource.
        let e = err(sim.create_secret(&ctx, &secret(vec![("k".into(), "v".into())])).await);
        assert!(e.message.contains("secretsmanager:TagResource"), "{e}");
        ok(sim.create_secret(&ctx, &secret(vec![])).await);
        // Another session of the same role is not narrowed.
        let wide = as_role(&sim, &role(ACCOUNT, "by-account"), None).await;
        ok(sim.get_function_configuration(&wide, "f", None).await);
    }

    #[tokio::test]
    async fn get_role_answers_in_the_callers_account() {
        let sim = sim(fixture());
        let ctx = agent(&sim).await;
        let r = ok(sim.get_role(&ctx, "by-arn").await);
        assert_eq!(
            (r.role_name.as_str(), r.arn.as_str()),
            ("by-arn", "arn:aws:iam::123456789012:role/agents/by-arn")
        );
        assert!(r.role_id.starts_with("AROA") && r.role_id.len() == 21, "{}", r.role_id);
        assert_eq!(r.max_session_duration, 3600);
        let trust: serde_json::Value = serde_json::from_str(&r.assume_role_policy_document).expect("trust policy JSON");
        assert_eq!(trust["Statement"][0]["Principal"]["AWS"], AGENT);
        assert_ne!(ok(sim.get_role(&ctx, "by-star").await).role_id, r.role_id);
        // by-root lives in another account.
        let e = err(sim.get_role(&ctx, "by-root").await);
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            ("NoSuchEntity", "The role with name by-root cannot be found.")
        );
        let there = as_role(&sim, &role(OTHER, "by-root"), None).await;
        assert_eq!(ok(sim.get_role(&there, "by-root").await).arn, role(OTHER, "by-root"));
    }
}
