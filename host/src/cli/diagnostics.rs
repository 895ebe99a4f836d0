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
    /// A `service` (the agent) logs at info without -v, and exports its spans (run
    /// → step → cloud call) over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.
    pub(crate) fn install(&self, service: bool) {
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::util::SubscriberInitExt;
        use tracing_subscriber::Layer;
        let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(self.directives(service)));
        let fmt = tracing_subscriber::fmt::layer()
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .with_target(true);
        let fmt = match self.log_format {
            LogFormat::Text => fmt.boxed(),
            LogFormat::Json => fmt.json().flatten_event(true).with_current_span(true).boxed(),
        };
        let traces = if service { otlp_layer() } else { None };
        let _ = tracing_subscriber::registry().with(fmt.with_filter(filter)).with(traces).try_init();
    }
}

/// The tracer provider exporting spans, kept to flush them at exit.
static TRACES: std::sync::OnceLock<opentelemetry_sdk::trace::SdkTracerProvider> = std::sync::OnceLock::new();

/// Spans exported over OTLP (HTTP, JSON) to `OTEL_EXPORTER_OTLP_ENDPOINT` (the
/// standard variables configure the rest), or None when it is not set. Its own
/// filter: the host's spans at info, whatever the log shows.
fn otlp_layer<S>() -> Option<Box<dyn tracing_subscriber::Layer<S> + Send + Sync>>
where
    S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a> + Send + Sync,
{
    use opentelemetry::trace::TracerProvider as _;
    use opentelemetry_otlp::{Protocol, WithExportConfig};
    use tracing_subscriber::Layer;
    std::env::var("OTEL_EXPORTER_OTLP_ENDPOINT").ok().filter(|e| !e.is_empty())?;
    let exporter = match opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpJson)
        .build()
    {
        Ok(e) => e,
        Err(e) => {
            eprintln!("warning: OTEL_EXPORTER_OTLP_ENDPOINT is set but the exporter could not be built ({e}): no traces");
            return None;
        }
    };
    let provider = opentelemetry_sdk::trace::SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(opentelemetry_sdk::Resource::builder().with_service_name("scope-host").build())
        .build();
    let tracer = provider.tracer("scope-host");
    let _ = TRACES.set(provider);
    Some(
        tracing_opentelemetry::layer()
            .with_tracer(tracer)
            .with_filter(EnvFilter::new("scope_host=info"))
            .boxed(),
    )
}

/// Exports the spans still buffered (the agent stopping).
pub(crate) fn flush_traces() {
    if let Some(provider) = TRACES.get() {
        let _ = provider.force_flush();
        let _ = provider.shutdown_with_timeout(std::time::Duration::from_secs(5));
    }
}
