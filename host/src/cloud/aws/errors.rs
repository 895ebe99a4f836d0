//! SDK errors → [`CloudError`]s with AWS's codes.
//!
//! - A service error keeps the code and message the service answered with. Some
//!   answers carry no code the SDK can read (an emulator's XML auth error to a JSON
//!   service, a proxy's HTML page): then an XML `<Code>` in the body names it, or
//!   else the HTTP status decides — 403 is
//!   `AccessDenied`, 404 `ResourceNotFoundException`, 429 `TooManyRequestsException`,
//!   5xx `ServiceUnavailable` — and the message is read from the body when it has one.
//! - No answer at all is `RequestTimeout` or `NetworkError`, retryable, naming the
//!   endpoint that could not be reached.
//! - Throttling codes and 5xx answers are retryable.
//!
//! Key material of the calling identity never appears in a message: it is scrubbed.

use crate::cloud::CloudError;
use aws_config::retry::ErrorKind;
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sts::operation::RequestId;

/// One API operation as one identity: what its errors are reported as.
pub(super) struct Api {
    /// `lambda`, `ecr`, `iam`, `sts`, `secretsmanager`, `tag`.
    pub service: &'static str,
    /// AWS's operation name, e.g. `GetFunction`.
    pub operation: &'static str,
    /// Where the call went, for messages about an unreachable endpoint.
    pub endpoint: String,
    /// Strings that must never appear in a message (the identity's key material).
    pub secrets: Vec<String>,
}

/// Codes AWS uses for throttling.
const THROTTLING: [&str; 6] = [
    "ThrottlingException",
    "TooManyRequestsException",
    "Throttling",
    "ThrottledException",
    "RequestLimitExceeded",
    "ProvisionedThroughputExceededException",
];

/// The longest body excerpt quoted in a message.
const MAX_BODY_EXCERPT: usize = 300;

impl Api {
    /// Converts an SDK error of this operation.
    pub(super) fn error<E>(&self, err: SdkError<E>) -> CloudError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    {
        let header_request_id = err.request_id().map(str::to_string);
        match &err {
            SdkError::ServiceError(service_err) => {
                let raw = service_err.raw();
                let meta = service_err.err().meta();
                let request_id = header_request_id.or_else(|| meta.request_id().map(str::to_string));
                let body_message = || raw.body().bytes().and_then(message_from_body);
                let status = raw.status().as_u16();
                match meta.code() {
                    Some(code) if !code.is_empty() => {
                        let message = meta
                            .message()
                            .map(str::to_string)
                            .or_else(body_message)
                            .unwrap_or_else(|| format!("HTTP {status}"));
                        self.make(code, message, request_id, status)
                    }
                    _ => {
                        let message = meta
                            .message()
                            .map(str::to_string)
                            .or_else(body_message)
                            .unwrap_or_else(|| format!("HTTP {status} with no error code"));
                        let code = raw
                            .body()
                            .bytes()
                            .and_then(code_from_body)
                            .unwrap_or_else(|| code_for_status(status).to_string());
                        self.make(&code, message, request_id, status)
                    }
                }
            }
            SdkError::ResponseError(response_err) => {
                // An answer the SDK could not read: the status says what happened.
                let raw = response_err.raw();
                let status = raw.status().as_u16();
                let message = raw
                    .body()
                    .bytes()
                    .and_then(message_from_body)
                    .unwrap_or_else(|| format!("HTTP {status}; the response could not be read: {}", Causes(&err)));
                let code = raw
                    .body()
                    .bytes()
                    .and_then(code_from_body)
                    .unwrap_or_else(|| code_for_status(status).to_string());
                self.make(&code, message, header_request_id, status)
            }
            SdkError::TimeoutError(_) => self.unreachable("RequestTimeout", format!("no answer from {} in time", self.endpoint)),
            SdkError::DispatchFailure(dispatch) => {
                if dispatch.is_timeout() {
                    self.unreachable(
                        "RequestTimeout",
                        format!("no answer from {} in time: {}", self.endpoint, Causes(&err)),
                    )
                } else if dispatch.is_io() || dispatch.as_other() == Some(ErrorKind::TransientError) {
                    self.unreachable(
                        "NetworkError",
                        format!(
                            "cannot reach {}: {}; check the endpoint (--endpoint-url, AWS_ENDPOINT_URL) and the region, and that this machine can connect to it",
                            self.endpoint,
                            Causes(&err)
                        ),
                    )
                } else {
                    // Not the network: typically no credentials could be found.
                    let detail = Causes(&err).to_string();
                    if detail.contains("loading credentials") || detail.contains("no credentials") {
                        let mut e = self.client_error(
                            "no AWS credentials: the standard chain (environment, profile, web identity, instance metadata) found none; \
                             set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or run where a role is attached"
                                .to_owned(),
                        );
                        e.code = "NoCredentials".into();
                        e
                    } else {
                        self.client_error(format!("the request was not sent: {detail}"))
                    }
                }
            }
            SdkError::ConstructionFailure(_) => self.client_error(format!("the request could not be built: {}", Causes(&err))),
            _ => self.client_error(Causes(&err).to_string()),
        }
    }

    /// A request this client refused to build or send (no credentials, bad input).
    pub(super) fn client_error(&self, message: String) -> CloudError {
        CloudError {
            service: self.service.to_string(),
            operation: self.operation.to_string(),
            code: "ClientError".to_string(),
            message: self.scrub(message),
            request_id: None,
            retryable: false,
        }
    }

    /// The endpoint did not answer: worth another try.
    fn unreachable(&self, code: &str, message: String) -> CloudError {
        CloudError {
            service: self.service.to_string(),
            operation: self.operation.to_string(),
            code: code.to_string(),
            message: self.scrub(message),
            request_id: None,
            retryable: true,
        }
    }

    fn make(&self, code: &str, message: String, request_id: Option<String>, status: u16) -> CloudError {
        CloudError {
            service: self.service.to_string(),
            operation: self.operation.to_string(),
            retryable: THROTTLING.contains(&code) || status >= 500,
            code: code.to_string(),
            message: self.scrub(message),
            request_id,
        }
    }

    /// Replaces every key-material string with `***`.
    fn scrub(&self, mut message: String) -> String {
        for secret in self.secrets.iter().filter(|s| s.len() >= 4) {
            if message.contains(secret.as_str()) {
                message = message.replace(secret.as_str(), "***");
            }
        }
        message
    }
}

/// The code an answer without a readable code gets from its HTTP status.
fn code_for_status(status: u16) -> &'static str {
    match status {
        401 | 403 => "AccessDenied",
        404 => "ResourceNotFoundException",
        429 => "TooManyRequestsException",
        500..=599 => "ServiceUnavailable",
        _ => "UnknownError",
    }
}

/// The code of an XML error body (`<Code>AccessDenied</Code>`), when it has one.
fn code_from_body(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    xml_element(text, "Code").filter(|c| c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '.'))
}

/// The message of an error body: XML `<Message>`, JSON `message`/`Message`, else a
/// short excerpt of the text.
fn message_from_body(body: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?.trim();
    if text.is_empty() {
        return None;
    }
    if let Some(m) = xml_element(text, "Message") {
        return Some(m);
    }
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(text) {
        if let Some(m) = ["message", "Message", "errorMessage"]
            .iter()
            .find_map(|k| map.get(*k).and_then(|v| v.as_str()))
        {
            return Some(m.to_string());
        }
    }
    let excerpt: String = text.chars().take(MAX_BODY_EXCERPT).collect();
    Some(excerpt)
}

/// The text of the first `<name>…</name>` element.
fn xml_element(text: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = text.find(&open)? + open.len();
    let len = text[start..].find(&close)?;
    let inner = text[start..start + len].trim();
    (!inner.is_empty()).then(|| {
        inner
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&")
    })
}

/// An error and its sources, each said once, joined by `: ` — for people. (The SDK's
/// `DisplayErrorContext` ends with the whole error's `Debug`, which is for
/// programmers: `DispatchFailure(DispatchFailure { source: ConnectorError { … } })`.)
struct Causes<'a>(&'a (dyn std::error::Error + 'static));

impl std::fmt::Display for Causes<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut said: Vec<String> = Vec::new();
        let mut next: Option<&(dyn std::error::Error + 'static)> = Some(self.0);
        while let Some(e) = next {
            let text = e.to_string();
            // Layers often repeat their source's text in their own.
            if !text.is_empty() && !said.iter().any(|s| s.contains(&text)) {
                said.push(text);
            }
            next = e.source();
        }
        f.write_str(&said.join(": "))
    }
}

#[cfg(test)]
mod unit_tests {
    use super::*;

    #[test]
    fn bodies_without_codes_still_give_a_message() {
        let xml = b"<ErrorResponse><Error><Code>AccessDenied</Code><Message>User: x is not authorized &amp; denied</Message></Error></ErrorResponse>";
        assert_eq!(message_from_body(xml).as_deref(), Some("User: x is not authorized & denied"));
        assert_eq!(message_from_body(br#"{"message": "nope"}"#).as_deref(), Some("nope"));
        assert_eq!(message_from_body(b"  "), None);
        assert_eq!(code_from_body(xml).as_deref(), Some("AccessDenied"));
        assert_eq!(code_from_body(br#"{"message": "nope"}"#), None);
        assert_eq!(code_for_status(403), "AccessDenied");
        assert_eq!(code_for_status(404), "ResourceNotFoundException");
        assert_eq!(code_for_status(503), "ServiceUnavailable");
    }

    #[test]
    fn key_material_is_scrubbed_from_messages() {
        let api = Api {
            service: "lambda",
            operation: "GetFunction",
            endpoint: "http://127.0.0.1:1".into(),
            secrets: vec!["ASIAEXAMPLEKEY".into(), "s3cr3t-value".into()],
        };
        let e = api.client_error("Credential=ASIAEXAMPLEKEY/2026 signed with s3cr3t-value".into());
        assert_eq!(e.message, "Credential=***/2026 signed with ***");
    }
}
