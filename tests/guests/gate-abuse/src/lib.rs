//! Test guest: abuses the call gate, as a hostile plugin written against the
//! contract would. `MODE` picks the attack; `COUNT` how often it is repeated. It
//! keeps going after a refusal (a hostile plugin does not stop when told to) and
//! reports what it saw as outputs, so a test can tell the attack really ran.
use scope_step::prelude::*;
use scope_step::{credentials, lambda, secrets, CallError};

struct Guest;

/// What the loops saw: each kind of answer counted.
#[derive(Default)]
struct Seen {
    ok: u32,
    denied: u32,
    invalid: u32,
    limit: u32,
    cloud: u32,
}

impl Seen {
    fn count<T>(&mut self, r: Result<T, CallError>) {
        match r {
            Ok(_) => self.ok += 1,
            Err(CallError::Denied(_)) => self.denied += 1,
            Err(CallError::InvalidInput(_)) => self.invalid += 1,
            Err(CallError::Limit(_)) => self.limit += 1,
            Err(CallError::Cloud(_)) => self.cloud += 1,
        }
    }

    fn outputs(&self) -> Vec<Output> {
        vec![
            output("OK", self.ok.to_string()),
            output("DENIED", self.denied.to_string()),
            output("INVALID", self.invalid.to_string()),
            output("LIMITED", self.limit.to_string()),
            output("CLOUD", self.cloud.to_string()),
        ]
    }
}

impl Step for Guest {
    fn run() -> Result<Vec<Output>, StepError> {
        let f = require_var("LAMBDA_FUNCTION_NAME")?;
        let count: u32 = var("COUNT").and_then(|c| c.parse().ok()).unwrap_or(200_000);
        let mut seen = Seen::default();
        match var("MODE").as_deref().unwrap_or("") {
            // Not declared: every call is denied.
            "deny-loop" => {
                for _ in 0..count {
                    seen.count(lambda::delete_function_version(&f, "1"));
                }
            }
            // Malformed: every call is refused before it is sent.
            "invalid-loop" => {
                for _ in 0..count {
                    seen.count(lambda::get_function("", None));
                }
            }
            // Allowed: every call reaches the cloud.
            "call-loop" => {
                for _ in 0..count {
                    seen.count(lambda::get_function(&f, None));
                }
            }
            // One allowed call, then writes it is not granted whose values are the
            // words of that call's record: were they registered as secrets, the
            // record of the allowed call would be masked.
            "censor" => {
                seen.count(lambda::get_function(&f, None));
                let account = "123456789012".to_owned();
                for value in ["GetFunction", "lambda:GetFunction", &f, &account, "gate-abuse", "my-app-my-scope"] {
                    seen.count(secrets::put_secret_value("not-granted", value));
                }
            }
            // The agent's own identity made the workflow's: every later step would
            // sign outside any session policy.
            "switch-to-agent" => {
                let agent = credentials::agent_identity()?;
                credentials::use_for_workflow(&agent);
            }
            // A waiter that is never satisfied, with the longest wait the contract allows.
            "endless-waiter" => {
                seen.count(lambda::wait_function_updated(&f, u32::MAX));
            }
            // Many secrets written (each one makes every later redaction longer).
            "secret-flood" => {
                for i in 0..count {
                    let value = format!("flooded-secret-value-{i:08}");
                    seen.count(secrets::create_secret(&format!("flood-{i}"), "flood", &value, &[]));
                }
            }
            // Reads the function's environment, logs and returns every value, then
            // writes the environment it read back.
            "read-env" => {
                let info = lambda::get_function(&f, None).map_err(StepError::from)?;
                let env = info.configuration.environment;
                for (name, value) in &env {
                    log::info(&format!("{name}={value}"));
                }
                let mut out: Vec<Output> = env.iter().map(|(n, v)| output(format!("ENV_{n}"), v.clone())).collect();
                let request = lambda::UpdateConfigurationRequest {
                    function_name: f.clone(),
                    memory_size: None,
                    timeout: None,
                    ephemeral_storage: None,
                    runtime: None,
                    handler: None,
                    environment: Some(env),
                    layers: None,
                    vpc: None,
                    description: None,
                    revision_id: None,
                };
                seen.count(lambda::update_function_configuration(&request));
                out.extend(seen.outputs());
                return Ok(out);
            }
            other => return Err(StepError::InvalidInput(format!("unknown MODE `{other}`"))),
        }
        Ok(seen.outputs())
    }
}

scope_step::step!(
    Guest,
    Manifest {
        name: "gate-abuse",
        version: "0.1.0",
        description: "Abuses the call gate",
        inputs: &[
            Input::required("LAMBDA_FUNCTION_NAME"),
            Input::optional("MODE"),
            Input::optional("COUNT")
        ],
        capabilities: &[
            Capability::new("lambda:GetFunction", "arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}"),
            Capability::new(
                "lambda:GetFunctionConfiguration",
                "arn:aws:lambda:*:*:function:${LAMBDA_FUNCTION_NAME}"
            ),
            Capability::new("secretsmanager:CreateSecret", "arn:aws:secretsmanager:*:*:secret:flood-*"),
        ],
        ..Manifest::EMPTY
    }
);
