//! API Gateway v2: HTTP APIs, their stages, integrations and routes.

use super::{reply, sorted_pairs, AwsCloud};
use crate::cloud::{ApiMapping, CallCtx, CloudResult, Cors, CreateStage, DomainName, HttpApi, Integration, Reply, Route, Stage};
use aws_sdk_apigatewayv2::types::{DomainNameConfiguration, EndpointType, IntegrationType, ProtocolType, RouteSettings, SecurityPolicy};
use std::collections::HashMap;

/// The model's [`HttpApi`] from any answer that describes an API (CreateApi, an
/// item of GetApis: the same fields on distinct types).
macro_rules! http_api {
    ($a:expr) => {{
        let a = $a;
        HttpApi {
            api_id: a.api_id().unwrap_or_default().to_string(),
            name: a.name().unwrap_or_default().to_string(),
            api_endpoint: a.api_endpoint().unwrap_or_default().to_string(),
            tags: a.tags().map(sorted_pairs).unwrap_or_default(),
        }
    }};
}

/// The model's [`Stage`] from CreateStage or an item of GetStages.
macro_rules! stage {
    ($s:expr) => {{
        let s = $s;
        Stage {
            stage_name: s.stage_name().unwrap_or_default().to_string(),
            auto_deploy: s.auto_deploy().unwrap_or(false),
        }
    }};
}

/// The model's [`Integration`] from CreateIntegration or an item of GetIntegrations.
macro_rules! integration {
    ($i:expr) => {{
        let i = $i;
        Integration {
            integration_id: i.integration_id().unwrap_or_default().to_string(),
            integration_type: i.integration_type().map(|t| t.as_str().to_string()).unwrap_or_default(),
            integration_uri: i.integration_uri().unwrap_or_default().to_string(),
            payload_format_version: i.payload_format_version().unwrap_or_default().to_string(),
        }
    }};
}

/// The model's [`Route`] from CreateRoute or an item of GetRoutes.
macro_rules! route {
    ($r:expr) => {{
        let r = $r;
        Route {
            route_id: r.route_id().unwrap_or_default().to_string(),
            route_key: r.route_key().unwrap_or_default().to_string(),
            target: r.target().map(str::to_string),
        }
    }};
}

/// Every page of an API Gateway v2 listing (`MaxResults` is a string there): runs
/// `$call` (a request builder) with each page's token and maps the items with `$item`.
/// The request id is the first page's.
macro_rules! every_page {
    ($self:expr, $api:expr, $call:expr, $item:expr) => {{
        let mut items = Vec::new();
        let mut request_id = None;
        let mut token: Option<String> = None;
        loop {
            let out = $call
                .set_max_results($self.page_size.map(|n| n.to_string()))
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| $api.error(e))?;
            if request_id.is_none() {
                request_id = super::request_id_of(&out);
            }
            items.extend(out.items().iter().map($item));
            match out.next_token() {
                Some(next) if !next.is_empty() => token = Some(next.to_string()),
                _ => break,
            }
        }
        Reply { value: items, request_id }
    }};
}

/// The SDK's CORS configuration.
fn cors_configuration(cors: &Cors) -> aws_sdk_apigatewayv2::types::Cors {
    aws_sdk_apigatewayv2::types::Cors::builder()
        .set_allow_origins(Some(cors.allow_origins.clone()))
        .set_allow_methods(Some(cors.allow_methods.clone()))
        .set_allow_headers(Some(cors.allow_headers.clone()))
        .max_age(i32::try_from(cors.max_age).unwrap_or(i32::MAX))
        .build()
}

#[async_trait::async_trait]
impl crate::cloud::ApiGatewayApi for AwsCloud {
    /// Every page, in the service's order.
    async fn get_apis(&self, ctx: &CallCtx) -> CloudResult<Vec<HttpApi>> {
        let api = self.ctx_api("apigateway", "GetApis", ctx);
        let clients = self.for_ctx(ctx);
        Ok(every_page!(self, api, clients.apigateway().get_apis(), |a| http_api!(a)))
    }

    /// CreateApi with protocol HTTP; CORS only when given, tags only when there are some.
    async fn create_api(&self, ctx: &CallCtx, name: &str, cors: Option<&Cors>, tags: &[(String, String)]) -> CloudResult<HttpApi> {
        let api = self.ctx_api("apigateway", "CreateApi", ctx);
        let tags: HashMap<String, String> = tags.iter().cloned().collect();
        let out = self
            .for_ctx(ctx)
            .apigateway()
            .create_api()
            .name(name)
            .protocol_type(ProtocolType::Http)
            .set_cors_configuration(cors.map(cors_configuration))
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(http_api!(&out), &out))
    }

    async fn delete_api(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<()> {
        let api = self.ctx_api("apigateway", "DeleteApi", ctx);
        let out = self
            .for_ctx(ctx)
            .apigateway()
            .delete_api()
            .api_id(api_id)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn get_stages(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<Vec<Stage>> {
        let api = self.ctx_api("apigateway", "GetStages", ctx);
        let clients = self.for_ctx(ctx);
        Ok(every_page!(
            self,
            api,
            clients.apigateway().get_stages().api_id(api_id),
            |s| stage!(s)
        ))
    }

    /// CreateStage whose default route settings carry the throttling limits.
    async fn create_stage(&self, ctx: &CallCtx, req: &CreateStage) -> CloudResult<Stage> {
        let api = self.ctx_api("apigateway", "CreateStage", ctx);
        let throttling = RouteSettings::builder()
            .throttling_rate_limit(req.rate_limit)
            .throttling_burst_limit(i32::try_from(req.burst_limit).unwrap_or(i32::MAX))
            .build();
        let out = self
            .for_ctx(ctx)
            .apigateway()
            .create_stage()
            .api_id(&req.api_id)
            .stage_name(&req.stage_name)
            .auto_deploy(req.auto_deploy)
            .default_route_settings(throttling)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(stage!(&out), &out))
    }

    async fn get_integrations(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<Vec<Integration>> {
        let api = self.ctx_api("apigateway", "GetIntegrations", ctx);
        let clients = self.for_ctx(ctx);
        Ok(every_page!(
            self,
            api,
            clients.apigateway().get_integrations().api_id(api_id),
            |i| integration!(i)
        ))
    }

    /// An AWS_PROXY integration invoking the function (Lambda is always invoked with POST).
    async fn create_integration(
        &self,
        ctx: &CallCtx,
        api_id: &str,
        function_arn: &str,
        payload_format_version: &str,
    ) -> CloudResult<Integration> {
        let api = self.ctx_api("apigateway", "CreateIntegration", ctx);
        let out = self
            .for_ctx(ctx)
            .apigateway()
            .create_integration()
            .api_id(api_id)
            .integration_type(IntegrationType::AwsProxy)
            .integration_uri(function_arn)
            .integration_method("POST")
            .payload_format_version(payload_format_version)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(integration!(&out), &out))
    }

    async fn get_routes(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<Vec<Route>> {
        let api = self.ctx_api("apigateway", "GetRoutes", ctx);
        let clients = self.for_ctx(ctx);
        Ok(every_page!(
            self,
            api,
            clients.apigateway().get_routes().api_id(api_id),
            |r| route!(r)
        ))
    }

    async fn create_route(&self, ctx: &CallCtx, api_id: &str, route_key: &str, target: &str) -> CloudResult<Route> {
        let api = self.ctx_api("apigateway", "CreateRoute", ctx);
        let out = self
            .for_ctx(ctx)
            .apigateway()
            .create_route()
            .api_id(api_id)
            .route_key(route_key)
            .target(target)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(route!(&out), &out))
    }

    async fn get_domain_name(&self, ctx: &CallCtx, domain_name: &str) -> CloudResult<DomainName> {
        let api = self.ctx_api("apigateway", "GetDomainName", ctx);
        let out = self
            .for_ctx(ctx)
            .apigateway()
            .get_domain_name()
            .domain_name(domain_name)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(domain_of(domain_name, out.domain_name_configurations()), &out))
    }

    async fn create_domain_name(
        &self,
        ctx: &CallCtx,
        domain_name: &str,
        certificate_arn: &str,
        tags: &[(String, String)],
    ) -> CloudResult<DomainName> {
        let api = self.ctx_api("apigateway", "CreateDomainName", ctx);
        let configuration = DomainNameConfiguration::builder()
            .certificate_arn(certificate_arn)
            .endpoint_type(EndpointType::Regional)
            .security_policy(SecurityPolicy::Tls12)
            .build();
        let tags: HashMap<String, String> = tags.iter().cloned().collect();
        let out = self
            .for_ctx(ctx)
            .apigateway()
            .create_domain_name()
            .domain_name(domain_name)
            .domain_name_configurations(configuration)
            .set_tags((!tags.is_empty()).then_some(tags))
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply(domain_of(domain_name, out.domain_name_configurations()), &out))
    }

    async fn delete_domain_name(&self, ctx: &CallCtx, domain_name: &str) -> CloudResult<()> {
        let api = self.ctx_api("apigateway", "DeleteDomainName", ctx);
        let out = self
            .for_ctx(ctx)
            .apigateway()
            .delete_domain_name()
            .domain_name(domain_name)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        Ok(reply((), &out))
    }

    async fn get_api_mappings(&self, ctx: &CallCtx, domain_name: &str) -> CloudResult<Vec<ApiMapping>> {
        let api = self.ctx_api("apigateway", "GetApiMappings", ctx);
        let clients = self.for_ctx(ctx);
        Ok(every_page!(
            self,
            api,
            clients.apigateway().get_api_mappings().domain_name(domain_name),
            |m| ApiMapping {
                api_mapping_id: m.api_mapping_id().unwrap_or_default().to_string(),
                api_id: m.api_id().unwrap_or_default().to_string(),
                stage: m.stage().unwrap_or_default().to_string(),
            }
        ))
    }

    async fn create_api_mapping(&self, ctx: &CallCtx, domain_name: &str, api_id: &str, stage: &str) -> CloudResult<ApiMapping> {
        let api = self.ctx_api("apigateway", "CreateApiMapping", ctx);
        let out = self
            .for_ctx(ctx)
            .apigateway()
            .create_api_mapping()
            .domain_name(domain_name)
            .api_id(api_id)
            .stage(stage)
            .send()
            .await
            .map_err(|e| api.error(e))?;
        let mapping = ApiMapping {
            api_mapping_id: out.api_mapping_id().unwrap_or_default().to_string(),
            api_id: out.api_id().unwrap_or(api_id).to_string(),
            stage: out.stage().unwrap_or(stage).to_string(),
        };
        Ok(reply(mapping, &out))
    }
}

/// A custom domain's regional endpoint, from its (first) configuration.
fn domain_of(domain_name: &str, configurations: &[DomainNameConfiguration]) -> DomainName {
    let first = configurations.first();
    DomainName {
        domain_name: domain_name.to_string(),
        target_domain_name: first.and_then(|c| c.api_gateway_domain_name()).unwrap_or_default().to_string(),
        target_hosted_zone_id: first.and_then(|c| c.hosted_zone_id()).unwrap_or_default().to_string(),
    }
}
