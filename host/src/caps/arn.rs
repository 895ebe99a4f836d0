//! ARNs of the resources the capabilities touch, built from the call's arguments,
//! the caller's account and the run's region. The grant check matches these.

use thiserror::Error;

/// Why a name or ARN a step passed is not one AWS would accept. The host refuses
/// it as invalid input before any grant check or cloud call; each variant holds the
/// text as the step gave it.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum ArnError {
    /// An `arn:` that is not `arn:aws:lambda:<region>:<account>:function:<name>`,
    /// a qualified function ARN included (the qualifier is its own argument).
    #[error("`{0}` is not an unqualified Lambda function ARN (arn:aws:lambda:<region>:<12-digit account>:function:<name>); pass a qualifier separately")]
    FunctionArn(String),
    /// A function name that is empty, longer than 64 or has other characters.
    #[error("`{0}` is not a Lambda function name (1–64 letters, digits, `-` or `_`)")]
    FunctionName(String),
    /// A qualifier that is neither `$LATEST` nor a plain version or alias name.
    #[error("`{0}` is not a version or alias name")]
    Qualifier(String),
    /// An ECR repository name AWS would refuse.
    #[error("`{0}` is not an ECR repository name (lowercase letters, digits, `-_./`)")]
    RepositoryName(String),
    /// Anything but `arn:aws:iam::<12 digits>:role/<path/>name`.
    #[error("`{0}` is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)")]
    RoleArn(String),
}

/// A Lambda function named by name or by ARN.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FunctionRef {
    pub name: String,
    /// Region and account when the caller gave an ARN.
    pub region: Option<String>,
    pub account: Option<String>,
}

/// Accepts `my-function` or `arn:aws:lambda:<region>:<account>:function:my-function`.
/// A qualifier belongs in its own argument.
pub fn parse_function(input: &str) -> Result<FunctionRef, ArnError> {
    if let Some(rest) = input.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.split(':').collect();
        if parts.len() == 6 && parts[1] == "lambda" && parts[4] == "function" && valid_function_name(parts[5]) && is_account(parts[3]) {
            return Ok(FunctionRef {
                name: parts[5].to_owned(),
                region: Some(parts[2].to_owned()),
                account: Some(parts[3].to_owned()),
            });
        }
        return Err(ArnError::FunctionArn(input.to_owned()));
    }
    if valid_function_name(input) {
        Ok(FunctionRef {
            name: input.to_owned(),
            region: None,
            account: None,
        })
    } else {
        Err(ArnError::FunctionName(input.to_owned()))
    }
}

fn valid_function_name(name: &str) -> bool {
    (1..=64).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A version (`$LATEST`, a number) or alias name.
pub fn check_qualifier(q: &str) -> Result<(), ArnError> {
    let ok = q == "$LATEST" || ((1..=128).contains(&q.len()) && q.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    if ok {
        Ok(())
    } else {
        Err(ArnError::Qualifier(q.to_owned()))
    }
}

pub fn is_account(s: &str) -> bool {
    s.len() == 12 && s.chars().all(|c| c.is_ascii_digit())
}

/// `arn:aws:lambda:<region>:<account>:function:<name>[:<qualifier>]`.
pub fn function_arn(f: &FunctionRef, region: &str, account: &str, qualifier: Option<&str>) -> String {
    let region = f.region.as_deref().unwrap_or(region);
    let account = f.account.as_deref().unwrap_or(account);
    match qualifier {
        Some(q) => format!("arn:aws:lambda:{region}:{account}:function:{}:{q}", f.name),
        None => format!("arn:aws:lambda:{region}:{account}:function:{}", f.name),
    }
}

pub fn ecr_repository_arn(region: &str, registry: &str, name: &str) -> String {
    format!("arn:aws:ecr:{region}:{registry}:repository/{name}")
}

pub fn check_repository_name(name: &str) -> Result<(), ArnError> {
    let ok = (2..=256).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_./".contains(c))
        && name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
    if ok {
        Ok(())
    } else {
        Err(ArnError::RepositoryName(name.to_owned()))
    }
}

pub fn role_arn(account: &str, name: &str) -> String {
    format!("arn:aws:iam::{account}:role/{name}")
}

/// `arn:aws:iam::<12 digits>:role/<path/>name`.
pub fn check_role_arn(arn: &str) -> Result<(), ArnError> {
    let bad = || ArnError::RoleArn(arn.to_owned());
    let rest = arn.strip_prefix("arn:aws:iam::").ok_or_else(bad)?;
    let (account, role) = rest.split_once(':').ok_or_else(bad)?;
    let name = role.strip_prefix("role/").ok_or_else(bad)?;
    if is_account(account) && !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-/".contains(c)) {
        Ok(())
    } else {
        Err(bad())
    }
}

pub fn secret_arn(region: &str, account: &str, id: &str) -> String {
    if id.starts_with("arn:") {
        id.to_owned()
    } else {
        format!("arn:aws:secretsmanager:{region}:{account}:secret:{id}")
    }
}

pub fn s3_object_arn(bucket: &str, key: &str) -> String {
    format!("arn:aws:s3:::{bucket}/{key}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn function_names_and_arns() {
        assert_eq!(parse_function("11-app-web").unwrap().name, "11-app-web");
        let f = parse_function("arn:aws:lambda:eu-west-1:123456789012:function:fn").unwrap();
        assert_eq!(
            function_arn(&f, "us-east-1", "999999999999", Some("3")),
            "arn:aws:lambda:eu-west-1:123456789012:function:fn:3"
        );
        for bad in [
            "",
            "a b",
            "arn:aws:lambda:r:1:function:f",
            "arn:aws:lambda:r:123456789012:function:f:1",
            &"x".repeat(65),
        ] {
            assert!(parse_function(bad).is_err(), "{bad}");
        }
    }

    /// Steps and tests match on these words: the typed errors print them unchanged.
    #[test]
    fn messages_are_the_ones_steps_see() {
        let cases = [
            (
                parse_function("arn:aws:lambda:r:1:function:f").map(|_| ()),
                "`arn:aws:lambda:r:1:function:f` is not an unqualified Lambda function ARN (arn:aws:lambda:<region>:<12-digit account>:function:<name>); pass a qualifier separately",
            ),
            (
                parse_function("a b").map(|_| ()),
                "`a b` is not a Lambda function name (1–64 letters, digits, `-` or `_`)",
            ),
            (check_qualifier("a:b"), "`a:b` is not a version or alias name"),
            (
                check_repository_name("Repo"),
                "`Repo` is not an ECR repository name (lowercase letters, digits, `-_./`)",
            ),
            (
                check_role_arn("x"),
                "`x` is not an IAM role ARN (arn:aws:iam::<12-digit account>:role/<name>)",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got.unwrap_err().to_string(), want);
        }
    }

    #[test]
    fn role_arns() {
        assert!(check_role_arn("arn:aws:iam::123456789012:role/np-lambda-agent").is_ok());
        assert!(check_role_arn("arn:aws:iam::123456789012:role/path/x").is_ok());
        for bad in ["", "np-lambda-agent", "arn:aws:iam::12:role/x", "arn:aws:iam::123456789012:user/x"] {
            assert!(check_role_arn(bad).is_err(), "{bad}");
        }
    }
}
