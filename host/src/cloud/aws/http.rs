//! One HTTP client for every SDK client the backend builds.
//!
//! Left to itself, every SDK service client makes a default HTTPS client of its own:
//! its own connection pool, and a rustls configuration built from the system's trust
//! store (once when the client is built, to validate it, and again at its first
//! request). The backend builds a client per service per identity, and every step
//! session is an identity, so a deployment paid for that a dozen times and opened a
//! fresh connection for each step. Here the process shares one connector per set of
//! connector settings, hence one pool, and TLS is set up once, at the first `https`
//! request: a run against an emulator on `http://` never loads the trust store.
//!
//! The connectors are the SDK's own (`aws-smithy-http-client`, rustls with aws-lc,
//! the proxy from `HTTPS_PROXY`/`NO_PROXY` as the SDK's default client takes it), so
//! timeouts, proxies and TLS behave as they would without this module.

use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::Connector;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::shared::IntoShared;
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

/// The client to put in the SDK's base configuration.
pub(super) fn shared_client() -> SharedHttpClient {
    SharedPool::default().into_shared()
}

/// Connectors differ only by their timeouts (all the settings there are).
type SettingsKey = (Option<Duration>, Option<Duration>);

#[derive(Debug, Default)]
struct SharedPool {
    connectors: Mutex<HashMap<SettingsKey, SharedHttpConnector>>,
}

impl HttpClient for SharedPool {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        let key = (settings.connect_timeout(), settings.read_timeout());
        let mut connectors = self.connectors.lock().unwrap_or_else(PoisonError::into_inner);
        connectors
            .entry(key)
            .or_insert_with(|| {
                SharedHttpConnector::new(BySchemeConnector {
                    settings: settings.clone(),
                    components: components.clone(),
                    plain: OnceLock::new(),
                    tls: OnceLock::new(),
                })
            })
            .clone()
    }
}

/// Sends `http://` requests through a connector that trusts no certificate (it
/// never meets one, unless a proxy for plain HTTP is itself reached over TLS), and
/// builds the one with the system's roots at the first `https://` request.
#[derive(Debug)]
struct BySchemeConnector {
    settings: HttpConnectorSettings,
    components: RuntimeComponents,
    plain: OnceLock<Connector>,
    tls: OnceLock<Connector>,
}

impl BySchemeConnector {
    fn build(&self, trust: TrustStore) -> Connector {
        let context = TlsContext::builder()
            .with_trust_store(trust)
            .build()
            .expect("a trust store without custom certificates is always valid");
        let mut builder = Connector::builder()
            .connector_settings(self.settings.clone())
            .proxy_config(ProxyConfig::from_env());
        builder.set_sleep_impl(self.components.sleep_impl());
        builder
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(context)
            .build()
    }
}

impl HttpConnector for BySchemeConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let connector = if request.uri().starts_with("http://") {
            self.plain.get_or_init(|| {
                let trust = if plain_http_proxy_uses_tls() {
                    TrustStore::default()
                } else {
                    TrustStore::empty().with_native_roots(false)
                };
                self.build(trust)
            })
        } else {
            self.tls.get_or_init(|| self.build(TrustStore::default()))
        };
        connector.call(request)
    }
}

/// Whether the proxy that plain-HTTP requests go through (as `ProxyConfig::from_env`
/// picks it) is an `https://` URL.
fn plain_http_proxy_uses_tls() -> bool {
    ["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
        .iter()
        .filter_map(std::env::var_os)
        .any(|url| url.to_string_lossy().trim().to_ascii_lowercase().starts_with("https://"))
}
