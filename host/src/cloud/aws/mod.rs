//! The real AWS backend: the [`Cloud`] trait over the official SDK crates.
//!
//! One [`AwsCloud`] holds the shared base configuration (credential chain, region,
//! endpoint, timeouts, retries) and a cache of SDK clients, one set per
//! (identity, region): the agent's calls sign with the chain's credentials, an
//! assumed identity's with its own temporary keys. Every answer carries the request
//! id AWS gave it; every failure becomes a [`CloudError`] with AWS's error code
//! (see `errors.rs`).

mod apigateway;
mod cloudwatch;
mod ecr;
mod elb;
mod errors;
mod http;
mod iam_sts;
mod lambda;
mod logs;
mod payload_hash;
mod route53;
mod secrets;
mod tagging;

#[cfg(test)]
mod tests;

use super::*;
use async_trait::async_trait;
use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sts::config::{Credentials as SdkCredentials, SharedCredentialsProvider};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::Duration;

use errors::Api;

/// How to reach AWS. The defaults suit the real cloud: the standard credential
/// chain, the chain's region (else `us-east-1`), 30 s per call, 3 attempts.
#[derive(Clone, Debug)]
pub struct AwsOptions {
    /// An endpoint for every service (an emulator); `AWS_ENDPOINT_URL` is honoured
    /// without it.
    pub endpoint_url: Option<String>,
    /// The default region; `None`: the chain's (`AWS_REGION`, profile), else `us-east-1`.
    pub region: Option<String>,
    /// The longest one call may take, retries included.
    pub call_timeout: Duration,
    /// Attempts per call, with the SDK's standard retry strategy (1: no retries).
    pub max_attempts: u32,
    /// Static keys `(access key id, secret access key)` used instead of the credential
    /// chain: for tests and emulators.
    pub static_credentials: Option<(String, String)>,
}

impl Default for AwsOptions {
    fn default() -> AwsOptions {
        AwsOptions {
            endpoint_url: None,
            region: None,
            call_timeout: Duration::from_secs(30),
            max_attempts: 3,
            static_credentials: None,
        }
    }
}

/// The region used when neither the options nor the chain name one.
const FALLBACK_REGION: &str = "us-east-1";

/// The region Route 53, a global service, is signed for whatever region a call names.
const ROUTE53_REGION: &str = "us-east-1";

/// Clients are cached per identity; past this many, the assumed identities' clients
/// (old sessions, mostly expired) are dropped.
const MAX_CACHED_CLIENT_SETS: usize = 256;

/// The cache key of a client set: the signing identity and the region.
type ClientKey = (String, String);

/// The agent's name in the client cache (never an access key id).
const AGENT: &str = "agent";

/// AWS through the official SDK. Cheap to share (`Arc<AwsCloud>`).
pub struct AwsCloud {
    base: SdkConfig,
    region: String,
    /// Describes where calls go, for messages about unreachable endpoints.
    endpoint: Option<String>,
    /// Key material of the static credentials, scrubbed from error messages.
    static_secrets: Vec<String>,
    clients: Mutex<HashMap<ClientKey, Arc<Clients>>>,
    /// Items per page of listing calls; `None`: the service's default. Tests set it
    /// small to make the listings follow several pages.
    page_size: Option<i32>,
}

impl std::fmt::Debug for AwsCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AwsCloud")
            .field("region", &self.region)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

impl AwsCloud {
    /// Loads the shared configuration: credentials from the standard chain (env,
    /// profile, web identity, IMDS) unless `options.static_credentials`, endpoint from
    /// the options or `AWS_ENDPOINT_URL`, region from the options, else the chain,
    /// else `us-east-1`. No call is made; a missing credential shows on the first call.
    pub async fn new(options: AwsOptions) -> Result<AwsCloud, CloudError> {
        let region_chain = RegionProviderChain::first_try(options.region.clone().map(Region::new))
            .or_default_provider()
            .or_else(Region::from_static(FALLBACK_REGION));
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .region(region_chain)
            .timeout_config(
                TimeoutConfig::builder()
                    .operation_timeout(options.call_timeout)
                    .connect_timeout(options.call_timeout)
                    .build(),
            )
            .retry_config(RetryConfig::standard().with_max_attempts(options.max_attempts.max(1)))
            // One connection pool for every client of every identity (see http.rs).
            .http_client(http::shared_client());
        if let Some(url) = &options.endpoint_url {
            loader = loader.endpoint_url(url.clone());
        }
        let mut static_secrets = Vec::new();
        if let Some((key, secret)) = &options.static_credentials {
            static_secrets = vec![key.clone(), secret.clone()];
            loader = loader.credentials_provider(SdkCredentials::new(key, secret, None, None, "scope-host-static"));
        }
        let base = loader.load().await;
        let region = base
            .region()
            .map_or_else(|| FALLBACK_REGION.to_string(), |r| r.as_ref().to_string());
        if region.is_empty() {
            return Err(CloudError {
                service: "sts".into(),
                operation: "Configure".into(),
                code: "InvalidRegion".into(),
                message: "the configured AWS region is empty".into(),
                request_id: None,
                retryable: false,
            });
        }
        let endpoint = base.endpoint_url().map(str::to_string);
        Ok(AwsCloud {
            base,
            region,
            endpoint,
            static_secrets,
            clients: Mutex::new(HashMap::new()),
            page_size: None,
        })
    }

    /// The clients that sign as `identity` and call `region`, built once.
    fn clients(&self, identity: &Identity, region: &str) -> Arc<Clients> {
        let who = identity
            .credentials
            .as_ref()
            .map_or_else(|| AGENT.to_string(), |c| c.access_key_id.clone());
        let key = (who, region.to_string());
        let mut cache = self.clients.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = cache.get(&key) {
            return Arc::clone(found);
        }
        if cache.len() >= MAX_CACHED_CLIENT_SETS {
            cache.retain(|(who, _), _| who == AGENT);
        }
        let mut builder = self.base.to_builder();
        builder.set_region(Some(Region::new(region.to_string())));
        if let Some(c) = &identity.credentials {
            let credentials = SdkCredentials::new(
                &c.access_key_id,
                &c.secret_access_key,
                c.session_token.clone(),
                None,
                "scope-host-session",
            );
            builder.set_credentials_provider(Some(SharedCredentialsProvider::new(credentials)));
        }
        let clients = Arc::new(Clients::new(builder.build()));
        cache.insert(key, Arc::clone(&clients));
        clients
    }

    /// The clients for a call made in `ctx`.
    fn for_ctx(&self, ctx: &CallCtx) -> Arc<Clients> {
        self.clients(&ctx.identity, &ctx.region)
    }

    /// An API operation as `identity` in `region`, for mapping its errors.
    fn api(&self, service: &'static str, operation: &'static str, identity: &Identity, region: &str) -> Api {
        let mut secrets = self.static_secrets.clone();
        if let Some(c) = &identity.credentials {
            secrets.push(c.access_key_id.clone());
            secrets.extend(c.secret_values());
        }
        let endpoint = self
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("the AWS {service} endpoint in {region}"));
        Api {
            service,
            operation,
            endpoint,
            secrets,
        }
    }

    /// [`AwsCloud::api`] for a call made in `ctx`.
    fn ctx_api(&self, service: &'static str, operation: &'static str, ctx: &CallCtx) -> Api {
        self.api(service, operation, &ctx.identity, &ctx.region)
    }

    /// The number of cached client sets (tests check clients are reused).
    #[cfg(test)]
    fn cached_client_sets(&self) -> usize {
        self.clients.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

/// One identity's clients in one region, each built on first use.
struct Clients {
    config: SdkConfig,
    sts: OnceLock<aws_sdk_sts::Client>,
    lambda: OnceLock<aws_sdk_lambda::Client>,
    ecr: OnceLock<aws_sdk_ecr::Client>,
    iam: OnceLock<aws_sdk_iam::Client>,
    logs: OnceLock<aws_sdk_cloudwatchlogs::Client>,
    cloudwatch: OnceLock<aws_sdk_cloudwatch::Client>,
    secrets: OnceLock<aws_sdk_secretsmanager::Client>,
    tagging: OnceLock<aws_sdk_resourcegroupstagging::Client>,
    apigateway: OnceLock<aws_sdk_apigatewayv2::Client>,
    elb: OnceLock<aws_sdk_elasticloadbalancingv2::Client>,
    route53: OnceLock<aws_sdk_route53::Client>,
}

impl Clients {
    fn new(config: SdkConfig) -> Clients {
        Clients {
            config,
            sts: OnceLock::new(),
            lambda: OnceLock::new(),
            ecr: OnceLock::new(),
            iam: OnceLock::new(),
            logs: OnceLock::new(),
            cloudwatch: OnceLock::new(),
            secrets: OnceLock::new(),
            tagging: OnceLock::new(),
            apigateway: OnceLock::new(),
            elb: OnceLock::new(),
            route53: OnceLock::new(),
        }
    }

    fn sts(&self) -> &aws_sdk_sts::Client {
        self.sts.get_or_init(|| aws_sdk_sts::Client::new(&self.config))
    }

    fn lambda(&self) -> &aws_sdk_lambda::Client {
        // Lambda's REST API has body-less GETs: sign their payload hash too.
        self.lambda.get_or_init(|| {
            let config = aws_sdk_lambda::config::Builder::from(&self.config)
                .interceptor(payload_hash::SignPayloadHash)
                .build();
            aws_sdk_lambda::Client::from_conf(config)
        })
    }

    fn ecr(&self) -> &aws_sdk_ecr::Client {
        self.ecr.get_or_init(|| aws_sdk_ecr::Client::new(&self.config))
    }

    fn iam(&self) -> &aws_sdk_iam::Client {
        self.iam.get_or_init(|| aws_sdk_iam::Client::new(&self.config))
    }

    fn cloudwatch(&self) -> &aws_sdk_cloudwatch::Client {
        self.cloudwatch.get_or_init(|| aws_sdk_cloudwatch::Client::new(&self.config))
    }

    fn logs(&self) -> &aws_sdk_cloudwatchlogs::Client {
        self.logs.get_or_init(|| aws_sdk_cloudwatchlogs::Client::new(&self.config))
    }

    fn secrets(&self) -> &aws_sdk_secretsmanager::Client {
        self.secrets.get_or_init(|| aws_sdk_secretsmanager::Client::new(&self.config))
    }

    fn tagging(&self) -> &aws_sdk_resourcegroupstagging::Client {
        self.tagging
            .get_or_init(|| aws_sdk_resourcegroupstagging::Client::new(&self.config))
    }

    fn apigateway(&self) -> &aws_sdk_apigatewayv2::Client {
        // A REST API with body-less GETs, like Lambda's: sign their payload hash too.
        self.apigateway.get_or_init(|| {
            let config = aws_sdk_apigatewayv2::config::Builder::from(&self.config)
                .interceptor(payload_hash::SignPayloadHash)
                .build();
            aws_sdk_apigatewayv2::Client::from_conf(config)
        })
    }

    fn elb(&self) -> &aws_sdk_elasticloadbalancingv2::Client {
        self.elb.get_or_init(|| aws_sdk_elasticloadbalancingv2::Client::new(&self.config))
    }

    fn route53(&self) -> &aws_sdk_route53::Client {
        // Global: one signing region, whatever region the set is for. A REST API with
        // body-less GETs: sign their payload hash too.
        self.route53.get_or_init(|| {
            let config = aws_sdk_route53::config::Builder::from(&self.config)
                .region(Region::from_static(ROUTE53_REGION))
                .interceptor(payload_hash::SignPayloadHash)
                .build();
            aws_sdk_route53::Client::from_conf(config)
        })
    }
}

/// The request id of an SDK output, owned.
fn request_id_of(output: &impl aws_sdk_sts::operation::RequestId) -> Option<String> {
    output.request_id().map(str::to_string)
}

/// A reply with the output's request id.
fn reply<T>(value: T, output: &impl aws_sdk_sts::operation::RequestId) -> Reply<T> {
    Reply {
        value,
        request_id: request_id_of(output),
    }
}

/// A count AWS sends as `i32` (absent or negative: 0).
fn count(n: Option<i32>) -> u32 {
    n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

/// Key-value pairs sorted by key.
fn sorted_pairs<'a>(pairs: impl IntoIterator<Item = (&'a String, &'a String)>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pairs.into_iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    v.sort();
    v
}

#[async_trait]
impl CloudBase for AwsCloud {
    fn backend(&self) -> &'static str {
        "aws"
    }

    fn default_region(&self) -> String {
        self.region.clone()
    }

    async fn pause(&self, interval: Duration) {
        tokio::time::sleep(interval).await;
    }
}
