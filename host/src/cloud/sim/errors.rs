//! Errors of the simulated cloud: [`Fault`]s that become AWS-shaped [`CloudError`]s,
//! and [`FixtureError`]s for fixtures that cannot be loaded.

use crate::cloud::CloudError;

/// The AWS service a call goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Service {
    Lambda,
    Ecr,
    Iam,
    Sts,
    SecretsManager,
    Tagging,
    Logs,
    ApiGateway,
    Elb,
    Route53,
    CloudWatch,
}

impl Service {
    /// The name recorded in [`CloudError::service`].
    pub(super) fn name(self) -> &'static str {
        match self {
            Service::Lambda => "lambda",
            Service::Ecr => "ecr",
            Service::Iam => "iam",
            Service::Sts => "sts",
            Service::SecretsManager => "secretsmanager",
            Service::Tagging => "tag",
            Service::Logs => "logs",
            Service::ApiGateway => "apigateway",
            Service::Elb => "elasticloadbalancing",
            Service::Route53 => "route53",
            Service::CloudWatch => "cloudwatch",
        }
    }

    /// The prefix of the service's IAM actions (`tag:GetResources`, not `tagging:`).
    fn iam_prefix(self) -> &'static str {
        match self {
            Service::Tagging => "tag",
            other => other.name(),
        }
    }

    /// The code the service answers an authorization failure with: the query-protocol
    /// services (IAM, STS) say `AccessDenied`, the JSON ones `AccessDeniedException`.
    pub(super) fn access_denied_code(self) -> &'static str {
        match self {
            Service::Iam | Service::Sts => "AccessDenied",
            _ => "AccessDeniedException",
        }
    }
}

/// One API operation: its service and AWS's operation name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Api {
    pub service: Service,
    pub operation: &'static str,
}

impl Api {
    pub(super) const fn new(service: Service, operation: &'static str) -> Api {
        Api { service, operation }
    }

    /// The IAM action that authorizes the operation, e.g. `lambda:GetFunction`.
    pub(super) fn action(self) -> String {
        self.action_named(self.operation)
    }

    /// Another IAM action of the same service (CreateSecret with tags also needs
    /// `secretsmanager:TagResource`).
    pub(super) fn action_named(self, operation: &str) -> String {
        format!("{}:{}", self.service.iam_prefix(), operation)
    }
}

/// A refusal inside the sim, before the request id and operation are attached.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Fault {
    pub code: &'static str,
    pub message: String,
}

impl Fault {
    pub(super) fn new(code: &'static str, message: impl Into<String>) -> Fault {
        Fault {
            code,
            message: message.into(),
        }
    }

    /// The authorization failure as AWS words it:
    /// `User: <caller> is not authorized to perform: <action> on resource: <resource>[ <why>]`.
    pub(super) fn access_denied(service: Service, caller: &str, action: &str, resource: &str, why: Option<&str>) -> Fault {
        let mut message = format!("User: {caller} is not authorized to perform: {action} on resource: {resource}");
        if let Some(why) = why {
            message.push(' ');
            message.push_str(why);
        }
        Fault::new(service.access_denied_code(), message)
    }

    /// Attaches what the caller needs to report the refusal.
    pub(super) fn into_cloud_error(self, api: Api, request_id: String) -> CloudError {
        CloudError {
            service: api.service.name().to_string(),
            operation: api.operation.to_string(),
            // Throttling and server errors, as AWS's SDKs classify them (a fixture
            // scripts them: see `faults`).
            retryable: SCRIPTED_CODES.contains(&self.code),
            code: self.code.to_string(),
            message: self.message,
            request_id: Some(request_id),
        }
    }
}

/// A fixture that cannot become a simulated cloud.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// The fixture file could not be read.
    #[error("{file}: cannot read the fixture: {source}")]
    Read {
        file: String,
        #[source]
        source: std::io::Error,
    },
    /// Malformed JSON, an unknown key or a value of the wrong type, at a position.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// Well-formed JSON describing an impossible cloud; the message names the culprit.
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
}

impl FixtureError {
    /// Converts serde_json's error, keeping its position but not repeating it in the message.
    pub(super) fn from_json(file: &str, err: &serde_json::Error) -> FixtureError {
        let (line, column) = (err.line(), err.column());
        let message = crate::json_error::message(err);
        FixtureError::Syntax {
            file: file.to_string(),
            line,
            column,
            message,
        }
    }
}

/// The errors a fixture may script: throttling and server errors, all retryable.
pub(super) const SCRIPTED_CODES: &[&str] = &[
    "ThrottlingException",
    "Throttling",
    "TooManyRequestsException",
    "ServiceException",
    "ServiceUnavailableException",
    "InternalFailure",
];

/// The static code of a scriptable error.
pub(super) fn scripted_code(code: &str) -> Option<&'static str> {
    SCRIPTED_CODES.iter().copied().find(|c| *c == code)
}
