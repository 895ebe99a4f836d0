//! # scope-step: write scope-host steps in Rust
//!
//! A step is a type implementing [`Step`], exported with [`step!`] together with
//! its manifest; a diagnose check implements [`Check`] and uses [`check!`]. The
//! manifest is declared in code and written into the component at compile time,
//! so the host knows what the plugin reads, returns and may call before it runs.
//!
//! ```ignore
//! use scope_step::prelude::*;
//!
//! struct Hello;
//! impl Step for Hello {
//!     fn run() -> Result<Vec<Output>, StepError> {
//!         let who = var("WHO").unwrap_or_else(|| "world".into());
//!         log::info(&format!("hello, {who}"));
//!         Ok(vec![output("GREETING", format!("hello, {who}"))])
//!     }
//! }
//! scope_step::step!(Hello, Manifest {
//!     name: "hello", version: "0.1.0", description: "Greets",
//!     inputs: &[Input::optional("WHO")], outputs: &[OutputDecl::plain("GREETING")],
//!     ..Manifest::EMPTY
//! });
//! ```
//!
//! Build with `cargo build --release --target wasm32-wasip2`; the `.wasm` in
//! `target/wasm32-wasip2/release/` is the plugin.

mod manifest;

pub use manifest::{Capability, Input, Kind, Manifest, OutputDecl, CONTRACT, SECTION};

#[doc(hidden)]
pub mod step_world {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "scope:step/step",
        pub_export_macro: true,
        export_macro_name: "__export_step_world",
        default_bindings_module: "scope_step::step_world",
        // Steps compare states and statuses (`c.state == FunctionState::Active`).
        additional_derives: [PartialEq],
        generate_all,
    });
}

#[doc(hidden)]
pub mod check_world {
    wit_bindgen::generate!({
        path: "../../wit",
        world: "scope:step/check",
        pub_export_macro: true,
        export_macro_name: "__export_check_world",
        default_bindings_module: "scope_step::check_world",
        with: {
            "scope:step/types@0.2.0": crate::step_world::scope::step::types,
            "scope:step/log@0.2.0": crate::step_world::scope::step::log,
            "scope:step/context@0.2.0": crate::step_world::scope::step::context,
            "scope:step/providers@0.2.0": crate::step_world::scope::step::providers,
            "scope:step/credentials@0.2.0": crate::step_world::scope::step::credentials,
            "scope:step/lambda@0.2.0": crate::step_world::scope::step::lambda,
            "scope:step/ecr@0.2.0": crate::step_world::scope::step::ecr,
            "scope:step/iam@0.2.0": crate::step_world::scope::step::iam,
            "scope:step/logs@0.2.0": crate::step_world::scope::step::logs,
            "scope:step/apigateway@0.2.0": crate::step_world::scope::step::apigateway,
            "scope:step/elb@0.2.0": crate::step_world::scope::step::elb,
            "scope:step/route53@0.2.0": crate::step_world::scope::step::route53,
            "scope:step/cloudwatch@0.2.0": crate::step_world::scope::step::cloudwatch,
            "scope:step/platform@0.2.0": crate::step_world::scope::step::platform,
            "scope:step/secrets@0.2.0": crate::step_world::scope::step::secrets,
            "scope:step/tagging@0.2.0": crate::step_world::scope::step::tagging,
        },
    });
}

/// The shared contract types.
pub use step_world::scope::step::types::{CallError, CheckResult, CheckStatus, CloudError, Denial, ErrorKind, Output, StepError};
/// The host interfaces, typed: call them directly (`lambda::get_function(…)`).
pub use step_world::scope::step::{
    apigateway, cloudwatch, context, credentials, ecr, elb, iam, lambda, logs, platform, providers, route53, secrets, tagging,
};

/// A workflow step.
pub trait Step {
    /// Runs once; returns the outputs later steps may use.
    fn run() -> Result<Vec<Output>, StepError>;
}

/// A diagnose check.
pub trait Check {
    /// Inspects the scope and returns a verdict with evidence.
    fn check() -> Result<CheckResult, StepError>;
}

/// An output later steps may read.
pub fn output(name: impl Into<String>, value: impl Into<String>) -> Output {
    Output {
        name: name.into(),
        value: value.into(),
        secret: false,
    }
}

/// An output the host redacts everywhere it could appear.
pub fn secret_output(name: impl Into<String>, value: impl Into<String>) -> Output {
    Output {
        name: name.into(),
        value: value.into(),
        secret: true,
    }
}

/// A variable's value (configuration, earlier outputs, `--var`).
pub fn var(name: &str) -> Option<String> {
    context::get_var(name)
}

/// A variable that must be set and non-empty, else an `invalid-input` error naming it.
pub fn require_var(name: &str) -> Result<String, StepError> {
    match var(name) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(StepError::InvalidInput(format!("variable {name} is required but not set"))),
    }
}

/// The built context as JSON text.
pub fn context_json() -> String {
    context::built_context()
}

/// A call's error as a person reads it, for log lines and messages (the generated
/// types' `Debug`, `CallError::Cloud(CloudError { service: … })`, is for programmers).
pub trait Explain {
    fn explain(&self) -> String;
}

impl Explain for CloudError {
    /// `ecr GetRepositoryPolicy: RepositoryPolicyNotFoundException: … (request 1a2b)`.
    fn explain(&self) -> String {
        let mut s = format!("{} {}: {}: {}", self.service, self.operation, self.code, self.message);
        if let Some(id) = &self.request_id {
            s.push_str(&format!(" (request {id})"));
        }
        if self.retryable {
            s.push_str("; retrying later may succeed");
        }
        s
    }
}

impl Explain for Denial {
    /// `denied lambda:PublishVersion on arn:…: <why>`.
    fn explain(&self) -> String {
        format!("denied {} on {}: {}", self.action, self.resource, self.reason)
    }
}

impl Explain for CallError {
    fn explain(&self) -> String {
        match self {
            CallError::Denied(d) => d.explain(),
            CallError::Cloud(c) => c.explain(),
            CallError::InvalidInput(m) => format!("invalid input: {m}"),
            CallError::Limit(m) => format!("stopped by a host limit: {m}"),
        }
    }
}

impl From<CallError> for StepError {
    /// A failed call becomes the step's error as it is: denials stay denials,
    /// cloud errors stay cloud errors.
    fn from(e: CallError) -> Self {
        match e {
            CallError::Denied(d) => StepError::Denied(d),
            CallError::Cloud(c) => StepError::Cloud(c),
            CallError::InvalidInput(m) => StepError::InvalidInput(m),
            CallError::Limit(m) => StepError::Failed(m),
        }
    }
}

/// The contract's closed sets print as AWS spells them (`Active`, `arm64`,
/// `IN_PROGRESS`), for messages and evidence; a value the contract does not know
/// yet prints as AWS sent it.
mod aws_names {
    use crate::lambda::{Architecture, FunctionState, PackageType, ProvisionedConcurrencyStatus, UpdateStatus};
    use std::fmt;

    macro_rules! aws_name {
        ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
            impl $ty {
                /// The value as AWS spells it.
                pub fn as_str(&self) -> &str {
                    match self {
                        $($ty::$variant => $name,)*
                        $ty::Other(s) => s,
                    }
                }
            }

            impl fmt::Display for $ty {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str(self.as_str())
                }
            }
        };
    }

    aws_name!(PackageType { Zip => "Zip", Image => "Image" });
    aws_name!(Architecture { X8664 => "x86_64", Arm64 => "arm64" });
    aws_name!(FunctionState { Pending => "Pending", Active => "Active", Inactive => "Inactive", Failed => "Failed" });
    aws_name!(UpdateStatus { InProgress => "InProgress", Successful => "Successful", Failed => "Failed" });
    aws_name!(ProvisionedConcurrencyStatus { InProgress => "IN_PROGRESS", Ready => "READY", Failed => "FAILED" });

    impl Architecture {
        /// An architecture from AWS's spelling (`x86_64`, `arm64`; anything else
        /// is `other`, which the cloud will judge).
        pub fn from_aws(name: &str) -> Self {
            match name {
                "x86_64" => Architecture::X8664,
                "arm64" => Architecture::Arm64,
                other => Architecture::Other(other.to_owned()),
            }
        }
    }
}

/// Log lines, shown live by the host and kept in the run record.
pub mod log {
    use crate::step_world::scope::step::log::{write, Level};
    pub fn debug(message: &str) {
        write(Level::Debug, message)
    }
    pub fn info(message: &str) {
        write(Level::Info, message)
    }
    pub fn warn(message: &str) {
        write(Level::Warn, message)
    }
    pub fn error(message: &str) {
        write(Level::Error, message)
    }
}

/// Everything a step usually needs.
pub mod prelude {
    pub use crate::{
        context_json, log, output, require_var, secret_output, var, Capability, Check, CheckResult, CheckStatus, Explain, Input, Manifest,
        Output, OutputDecl, Step, StepError,
    };
}

/// Exports a [`Step`] type with its manifest.
#[macro_export]
macro_rules! step {
    ($ty:ty, $manifest:expr) => {
        $crate::__manifest_section!($manifest.with_kind($crate::Kind::Step));
        #[doc(hidden)]
        pub struct __ScopeStepExport;
        impl $crate::step_world::Guest for __ScopeStepExport {
            fn run() -> Result<Vec<$crate::Output>, $crate::StepError> {
                <$ty as $crate::Step>::run()
            }
        }
        $crate::step_world::__export_step_world!(__ScopeStepExport with_types_in $crate::step_world);
    };
}

/// Exports a [`Check`] type with its manifest.
#[macro_export]
macro_rules! check {
    ($ty:ty, $manifest:expr) => {
        $crate::__manifest_section!($manifest.with_kind($crate::Kind::Check));
        #[doc(hidden)]
        pub struct __ScopeCheckExport;
        impl $crate::check_world::Guest for __ScopeCheckExport {
            fn check() -> Result<$crate::CheckResult, $crate::StepError> {
                <$ty as $crate::Check>::check()
            }
        }
        $crate::check_world::__export_check_world!(__ScopeCheckExport with_types_in $crate::check_world);
    };
}

/// Writes the manifest JSON into the custom section at compile time.
#[doc(hidden)]
#[macro_export]
macro_rules! __manifest_section {
    ($manifest:expr) => {
        const __SCOPE_MANIFEST: $crate::Manifest = $manifest;
        const __SCOPE_MANIFEST_LEN: usize = __SCOPE_MANIFEST.json_len();
        #[used]
        #[link_section = "scope-step-manifest"]
        static __SCOPE_MANIFEST_SECTION: [u8; __SCOPE_MANIFEST_LEN] = __SCOPE_MANIFEST.to_json::<__SCOPE_MANIFEST_LEN>();
    };
}
