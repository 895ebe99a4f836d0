//! The host's own diagnostics, through `tracing`: spans per run, step and cloud call
//! (and whatever wasmtime and the AWS SDK emit), on stderr, as text or JSON lines.
//! Separate from the run's output (progress on stdout, the journal on disk): this is
//! for whoever operates or debugs the host.
//!
//! `RUST_LOG` (an `EnvFilter` directive such as `scope_host=debug,aws_smithy_runtime=debug`)
//! wins over `-v`/`-q`. Messages carry names, codes and durations, never the
//! arguments or cloud messages a secret could be in.

use clap::{Args, ValueEnum};
use tracing_subscriber::EnvFilter;

/// How diagnostics are written.
#[derive(Clone, Copy, Debug, Default, ValueEnum)]
pub(crate) enum LogFormat {
    #[default]
    Text,
    Json,
}

#[derive(Args, Debug, Default)]
pub(crate) struct DiagnosticArgs {
    /// More diagnostics on stderr: -v each cloud call and step, -vv debug (and
    /// wasmtime's and the AWS SDK's own events), -vvv everything. RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// No diagnostics at all (the run's own output is unchanged).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Diagnostics as text or as JSON lines.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
}

impl DiagnosticArgs {
    /// The filter the flags ask for.
    fn directives(&self, service: bool) -> &'static str {
        match (self.quiet, self.verbose) {
            (true, _) => "off",
            // Runs, steps and requests; each cloud call at -v.
            (false, 0) if service => "scope_host=info,scope_host::caps=warn,scope_host::step=warn",
            (false, 0) => "scope_host=error",
            (false, 1) => "scope_host=info",
            (false, 2) => "scope_host=debug,wasmtime=info,aws_smithy_runtime=info,aws_config=info",
            (false, _) => "trace",
        }
    }

    /// Installs the subscriber for the process (once; a second call does nothing).
    /// A `service` (the agent) logs at info without -v.
    pub(crate) fn install(&self, service: bool) {
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(self.directives(service)));
        let builder = tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_target(true);
        let _ = match self.log_format {
            LogFormat::Text => builder.try_init(),
            LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        };
    }
}
