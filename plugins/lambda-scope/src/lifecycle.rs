//! Rules of the scope lifecycle steps (create, update, delete, invoke, concurrency):
//! the execution role's name, the resources' tags, what a step does when the
//! cloud says a thing is absent, and the embedded placeholder package.

use scope_step::{CallError, ErrorKind, StepError};
use serde_json::{Map, Value};

/// The default prefix of execution roles.
pub const ROLE_PREFIX: &str = "np-lambda-";

/// The managed policy a VPC-attached function's role needs.
pub const VPC_POLICY_ARN: &str = "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole";

/// The execution role's name: `<prefix><function>-role`. IAM allows 64
/// characters; a longer name keeps the prefix, cuts the function name and adds a
/// hash of the whole function name, so two long names never share a role (the
/// incumbent cut the name and could collide).
pub fn execution_role_name(prefix: &str, function: &str) -> Result<String, String> {
    const MAX: usize = 64;
    const SUFFIX: &str = "-role";
    let valid = |s: &str| s.chars().all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if !valid(prefix) {
        return Err(format!(
            "the execution role prefix `{prefix}` has characters IAM does not allow in a role name (letters, digits and `+=,.@_-`)"
        ));
    }
    if prefix.len() > 32 {
        return Err(format!(
            "the execution role prefix `{prefix}` is {} characters; with the function name and `-role` the role name would not fit IAM's 64 — use a prefix of at most 32 characters (lambda.execution_role_prefix or LAMBDA_EXECUTION_ROLE_PREFIX)",
            prefix.len()
        ));
    }
    let whole = format!("{prefix}{function}{SUFFIX}");
    if whole.len() <= MAX {
        return Ok(whole);
    }
    let hash = format!("{:08x}", fnv1a(function) as u32);
    let room = MAX - prefix.len() - SUFFIX.len() - hash.len() - 1;
    let cut: String = function.chars().take(room).collect();
    Ok(format!("{prefix}{cut}-{hash}{SUFFIX}"))
}

/// FNV-1a, 64 bits: a stable, dependency-free hash for names.
fn fnv1a(text: &str) -> u64 {
    text.bytes()
        .fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// RESOURCE_TAGS (a JSON object of strings) plus `extra`, as sorted pairs.
pub fn tags(resource_tags: &str, extra: &[(&str, &str)]) -> Result<Vec<(String, String)>, StepError> {
    let parsed: Value = if resource_tags.trim().is_empty() {
        Value::Object(Map::new())
    } else {
        serde_json::from_str(resource_tags).map_err(|e| StepError::InvalidInput(format!("RESOURCE_TAGS is not JSON: {e}")))?
    };
    let Value::Object(map) = parsed else {
        return Err(StepError::InvalidInput("RESOURCE_TAGS is not a JSON object".into()));
    };
    let mut out: Vec<(String, String)> = map.into_iter().filter_map(|(k, v)| crate::text_of(&v).map(|v| (k, v))).collect();
    for (k, v) in extra {
        out.retain(|(key, _)| key != k);
        out.push(((*k).to_owned(), (*v).to_owned()));
    }
    out.sort();
    Ok(out)
}

/// Whether a call failed because the thing is not there.
pub fn is_absent(e: &CallError) -> bool {
    matches!(e, CallError::Cloud(c) if c.kind == ErrorKind::NotFound)
}

/// A whole number given as an action's `value` parameter: digits only.
pub fn parse_value(raw: Option<String>) -> Result<u32, StepError> {
    let raw = raw.ok_or_else(|| StepError::InvalidInput("'value' parameter is required (.parameters.value)".into()))?;
    let trimmed = raw.trim();
    if trimmed.is_empty() || !trimmed.chars().all(|c| c.is_ascii_digit()) {
        return Err(StepError::InvalidInput(format!(
            "'value' must be a non-negative integer, got: {raw}"
        )));
    }
    trimmed
        .parse::<u32>()
        .map_err(|_| StepError::InvalidInput(format!("'value' is too large: {raw}")))
}

/// Waits until the provisioned concurrency of `function:alias` is READY, polling
/// every PROVISIONED_CONCURRENCY_POLL_INTERVAL seconds for at most
/// PROVISIONED_CONCURRENCY_MAX_WAIT_SECONDS; FAILED fails the step with its reason.
pub fn wait_provisioned_ready(function: &str, alias: &str) -> Result<(), StepError> {
    use scope_step::lambda;
    let interval = crate::number_var("PROVISIONED_CONCURRENCY_POLL_INTERVAL", 5)?.max(1);
    let max = crate::number_var("PROVISIONED_CONCURRENCY_MAX_WAIT_SECONDS", 600)?;
    let done = lambda::wait_provisioned_concurrency(function, alias, interval, max)?;
    if done.status != lambda::ProvisionedConcurrencyStatus::Ready {
        return Err(StepError::Failed(format!(
            "provisioned concurrency of {function}:{alias} is {}: {}",
            done.status,
            done.status_reason.unwrap_or_else(|| "no reason given".into())
        )));
    }
    Ok(())
}

/// A JSON list of strings held in a variable (`VPC_SUBNETS`, `LAMBDA_LAYERS`).
pub fn string_list(name: &str, raw: &str) -> Result<Vec<String>, StepError> {
    if raw.trim().is_empty() {
        return Ok(Vec::new());
    }
    serde_json::from_str::<Vec<String>>(raw)
        .map_err(|e| StepError::InvalidInput(format!("{name} is not a JSON list of strings: {e} (got `{raw}`)")))
}

/// The placeholder a zip scope's function starts with: one `index.js` answering
/// 200, until the first deployment replaces the code.
pub const PLACEHOLDER_JS: &str = "exports.handler = async () => ({\n  statusCode: 200,\n  body: JSON.stringify({ message: 'Nullplatform placeholder - awaiting first deployment' }),\n});\n";

/// A zip archive of one file, stored without compression (Lambda takes any valid
/// zip). Built here rather than committed: the archive is reproducible from the
/// source above, byte for byte.
pub fn stored_zip(name: &str, content: &[u8]) -> Vec<u8> {
    let crc = crc32(content);
    let size = u32::try_from(content.len()).unwrap_or(u32::MAX);
    let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
    // 1980-01-01 00:00: a fixed time, so the archive's hash never changes.
    let (time, date) = (0u16, 0x21u16);
    let mut zip = Vec::new();
    // Local file header.
    zip.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    for v in [20u16, 0, 0, time, date] {
        zip.extend_from_slice(&v.to_le_bytes());
    }
    for v in [crc, size, size] {
        zip.extend_from_slice(&v.to_le_bytes());
    }
    zip.extend_from_slice(&name_len.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip.extend_from_slice(name.as_bytes());
    zip.extend_from_slice(content);
    let central_at = u32::try_from(zip.len()).unwrap_or(u32::MAX);
    // Central directory entry.
    zip.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    for v in [20u16, 20, 0, 0, time, date] {
        zip.extend_from_slice(&v.to_le_bytes());
    }
    for v in [crc, size, size] {
        zip.extend_from_slice(&v.to_le_bytes());
    }
    for v in [name_len, 0, 0, 0, 0] {
        zip.extend_from_slice(&v.to_le_bytes());
    }
    zip.extend_from_slice(&0o100_644u32.wrapping_shl(16).to_le_bytes());
    zip.extend_from_slice(&0u32.to_le_bytes());
    zip.extend_from_slice(name.as_bytes());
    let central_size = u32::try_from(zip.len()).unwrap_or(u32::MAX) - central_at;
    // End of central directory.
    zip.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    for v in [0u16, 0, 1, 1] {
        zip.extend_from_slice(&v.to_le_bytes());
    }
    zip.extend_from_slice(&central_size.to_le_bytes());
    zip.extend_from_slice(&central_at.to_le_bytes());
    zip.extend_from_slice(&0u16.to_le_bytes());
    zip
}

/// CRC-32 (IEEE), as zip records it.
fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_fit_iam_and_never_collide() {
        assert_eq!(
            execution_role_name(ROLE_PREFIX, "11-my-app-my-scope").unwrap(),
            "np-lambda-11-my-app-my-scope-role"
        );
        let a = execution_role_name(ROLE_PREFIX, &format!("11-{}-a", "x".repeat(55))).unwrap();
        let b = execution_role_name(ROLE_PREFIX, &format!("11-{}-b", "x".repeat(55))).unwrap();
        assert!(a.len() <= 64 && b.len() <= 64, "{a} {b}");
        assert_ne!(a, b);
        assert!(a.starts_with("np-lambda-11-xxx") && a.ends_with("-role"));
        let e = execution_role_name(&"p".repeat(40), "f").unwrap_err();
        assert!(e.contains("at most 32"), "{e}");
        assert!(execution_role_name("bad prefix ", "f").unwrap_err().contains("does not allow"));
    }

    #[test]
    fn values_are_digits_only() {
        assert_eq!(parse_value(Some("5".into())).unwrap(), 5);
        assert_eq!(parse_value(Some("0".into())).unwrap(), 0);
        for bad in ["-1", "1.5", "five", "", " "] {
            let e = parse_value(Some(bad.into())).unwrap_err();
            assert!(
                matches!(e, StepError::InvalidInput(ref m) if m.contains("non-negative integer")),
                "{bad}"
            );
        }
        assert!(matches!(parse_value(None), Err(StepError::InvalidInput(m)) if m.contains("required")));
    }

    #[test]
    fn tags_merge_resource_tags_with_the_steps_own() {
        let t = tags(
            r#"{"nullplatform:scope-id":"11","Module":"x"}"#,
            &[("Module", "iam"), ("ManagedBy", "scope-host")],
        )
        .unwrap();
        assert_eq!(
            t,
            [
                ("ManagedBy".to_string(), "scope-host".to_string()),
                ("Module".to_string(), "iam".to_string()),
                ("nullplatform:scope-id".to_string(), "11".to_string())
            ]
        );
        assert!(tags("[1]", &[]).is_err());
    }

    #[test]
    fn the_placeholder_zip_is_a_valid_archive() {
        let zip = stored_zip("index.js", PLACEHOLDER_JS.as_bytes());
        assert_eq!(&zip[..4], b"PK\x03\x04");
        assert_eq!(&zip[zip.len() - 22..zip.len() - 18], b"PK\x05\x06");
        assert_eq!(crc32(b"123456789"), 0xcbf4_3926, "the standard check value");
        assert_eq!(stored_zip("index.js", PLACEHOLDER_JS.as_bytes()), zip, "reproducible");
    }
}
