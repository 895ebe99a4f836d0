//! `apigateway`: API Gateway v2 HTTP APIs. IAM authorizes API Gateway by HTTP verb
//! on the path of the resource (`apigateway:POST` on
//! `arn:aws:apigateway:<region>::/apis`), so the grant is checked that way; the
//! journal names the operation (`CreateApi`).

use super::view::CapsCtx;
use super::Answer;
use super::{Op, StepHost};
use crate::bindings::apigateway as wit;
use crate::bindings::types::CallError;
use crate::cloud::model as m;

const fn op(operation: &'static str) -> Op {
    Op {
        service: "apigateway",
        operation,
    }
}

/// API Gateway's ids: 10 lowercase letters and digits.
fn is_api_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 16 && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

impl StepHost {
    /// The IAM resource of an API Gateway path: `arn:aws:apigateway:<region>::<path>`.
    fn apigw_resource(&self, path: &str) -> String {
        format!("arn:aws:apigateway:{}::{path}", self.region())
    }

    fn domain_path(&mut self, o: Op, domain: &str, rest: &str) -> Result<String, CallError> {
        let valid = !domain.is_empty()
            && domain.len() <= 253
            && domain.contains('.')
            && domain.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-');
        if !valid {
            return Err(self.invalid(o, domain, format!("`{domain}` is not a domain name")));
        }
        Ok(self.apigw_resource(&format!("/domainnames/{domain}{rest}")))
    }

    fn api_path(&mut self, o: Op, api_id: &str, rest: &str) -> Result<String, CallError> {
        if !is_api_id(api_id) {
            return Err(self.invalid(o, api_id, format!("`{api_id}` is not an API id")));
        }
        Ok(self.apigw_resource(&format!("/apis/{api_id}{rest}")))
    }
}

fn to_wit_api(a: m::HttpApi) -> wit::Api {
    wit::Api {
        api_id: a.api_id,
        name: a.name,
        api_endpoint: a.api_endpoint,
        tags: a.tags,
    }
}

impl wit::Host for CapsCtx<'_> {
    async fn get_apis(&mut self) -> Answer<Vec<wit::Api>> {
        const OP: Op = op("GetApis");
        let h = &mut *self.host;
        let needs = [("apigateway:GET".to_owned(), h.apigw_resource("/apis"))];
        let apis = h
            .checked(OP, &needs, |c, ctx| async move { c.apigateway.get_apis(&ctx).await })
            .await;
        Ok(apis.map(|v| v.into_iter().map(to_wit_api).collect()))
    }

    async fn create_api(&mut self, name: String, cors: Option<wit::Cors>, tags: Vec<(String, String)>) -> Answer<wit::Api> {
        const OP: Op = op("CreateApi");
        let h = &mut *self.host;
        let resource = h.apigw_resource("/apis");
        if name.is_empty() || name.len() > 128 {
            return Ok(Err(h.invalid(
                OP,
                &resource,
                format!("`{name}` is not an API name (1–128 characters)"),
            )));
        }
        let mut needs = vec![("apigateway:POST".to_owned(), resource)];
        if !tags.is_empty() {
            // Tagging on create: API Gateway's actions are HTTP verbs, here POST on /tags.
            needs.push(("apigateway:POST".to_owned(), h.apigw_resource("/tags/*")));
        }
        let cors = cors.map(|c| m::Cors {
            allow_origins: c.allow_origins,
            allow_methods: c.allow_methods,
            allow_headers: c.allow_headers,
            max_age: c.max_age,
        });
        let api = h
            .checked(OP, &needs, |c, ctx| async move {
                c.apigateway.create_api(&ctx, &name, cors.as_ref(), &tags).await
            })
            .await;
        Ok(api.map(to_wit_api))
    }

    async fn delete_api(&mut self, api_id: String) -> Answer<()> {
        const OP: Op = op("DeleteApi");
        let h = &mut *self.host;
        let resource = try_call!(h.api_path(OP, &api_id, ""));
        Ok(h.checked(OP, &[("apigateway:DELETE".to_owned(), resource)], |c, ctx| async move {
            c.apigateway.delete_api(&ctx, &api_id).await
        })
        .await)
    }

    async fn get_domain_name(&mut self, domain_name: String) -> Answer<wit::DomainName> {
        const OP: Op = op("GetDomainName");
        let h = &mut *self.host;
        let resource = try_call!(h.domain_path(OP, &domain_name, ""));
        let found = h
            .checked(OP, &[("apigateway:GET".to_owned(), resource)], |c, ctx| async move {
                c.apigateway.get_domain_name(&ctx, &domain_name).await
            })
            .await;
        Ok(found.map(to_wit_domain))
    }

    async fn create_domain_name(
        &mut self,
        domain_name: String,
        certificate_arn: String,
        tags: Vec<(String, String)>,
    ) -> Answer<wit::DomainName> {
        const OP: Op = op("CreateDomainName");
        let h = &mut *self.host;
        try_call!(h.domain_path(OP, &domain_name, ""));
        let resource = h.apigw_resource("/domainnames");
        if !certificate_arn.starts_with("arn:aws:acm:") {
            return Ok(Err(h.invalid(
                OP,
                &resource,
                format!("`{certificate_arn}` is not an ACM certificate ARN (arn:aws:acm:<region>:<account>:certificate/<id>)"),
            )));
        }
        let mut needs = vec![("apigateway:POST".to_owned(), resource)];
        if !tags.is_empty() {
            // Tagging on create: API Gateway's actions are HTTP verbs, here POST on /tags.
            needs.push(("apigateway:POST".to_owned(), h.apigw_resource("/tags/*")));
        }
        let found = h
            .checked(OP, &needs, |c, ctx| async move {
                c.apigateway.create_domain_name(&ctx, &domain_name, &certificate_arn, &tags).await
            })
            .await;
        Ok(found.map(to_wit_domain))
    }

    async fn delete_domain_name(&mut self, domain_name: String) -> Answer<()> {
        const OP: Op = op("DeleteDomainName");
        let h = &mut *self.host;
        let resource = try_call!(h.domain_path(OP, &domain_name, ""));
        Ok(h.checked(OP, &[("apigateway:DELETE".to_owned(), resource)], |c, ctx| async move {
            c.apigateway.delete_domain_name(&ctx, &domain_name).await
        })
        .await)
    }

    async fn get_api_mappings(&mut self, domain_name: String) -> Answer<Vec<wit::ApiMapping>> {
        const OP: Op = op("GetApiMappings");
        let h = &mut *self.host;
        let resource = try_call!(h.domain_path(OP, &domain_name, "/apimappings"));
        let found = h
            .checked(OP, &[("apigateway:GET".to_owned(), resource)], |c, ctx| async move {
                c.apigateway.get_api_mappings(&ctx, &domain_name).await
            })
            .await;
        Ok(found.map(|v| v.into_iter().map(to_wit_mapping).collect()))
    }

    async fn create_api_mapping(&mut self, domain_name: String, api_id: String, stage: String) -> Answer<wit::ApiMapping> {
        const OP: Op = op("CreateApiMapping");
        let h = &mut *self.host;
        let resource = try_call!(h.domain_path(OP, &domain_name, "/apimappings"));
        if !is_api_id(&api_id) {
            return Ok(Err(h.invalid(OP, &resource, format!("`{api_id}` is not an API id"))));
        }
        let found = h
            .checked(OP, &[("apigateway:POST".to_owned(), resource)], |c, ctx| async move {
                c.apigateway.create_api_mapping(&ctx, &domain_name, &api_id, &stage).await
            })
            .await;
        Ok(found.map(to_wit_mapping))
    }

    async fn get_stages(&mut self, api_id: String) -> Answer<Vec<wit::Stage>> {
        const OP: Op = op("GetStages");
        let h = &mut *self.host;
        let resource = try_call!(h.api_path(OP, &api_id, "/stages"));
        let stages = h
            .checked(OP, &[("apigateway:GET".to_owned(), resource)], |c, ctx| async move {
                c.apigateway.get_stages(&ctx, &api_id).await
            })
            .await;
        Ok(stages.map(|v| {
            v.into_iter()
                .map(|s| wit::Stage {
                    stage_name: s.stage_name,
                    auto_deploy: s.auto_deploy,
                })
                .collect()
        }))
    }

    async fn create_stage(
        &mut self,
        api_id: String,
        stage_name: String,
        auto_deploy: bool,
        rate_limit: f64,
        burst_limit: u32,
    ) -> Answer<wit::Stage> {
        const OP: Op = op("CreateStage");
        let h = &mut *self.host;
        let resource = try_call!(h.api_path(OP, &api_id, "/stages"));
        if stage_name.is_empty() || !stage_name.chars().all(|c| c.is_ascii_alphanumeric() || "-_$".contains(c)) {
            return Ok(Err(h.invalid(OP, &resource, format!("`{stage_name}` is not a stage name"))));
        }
        if !(rate_limit.is_finite() && rate_limit >= 0.0) {
            return Ok(Err(h.invalid(
                OP,
                &resource,
                format!("rate limit {rate_limit} is not a number of requests per second"),
            )));
        }
        let req = m::CreateStage {
            api_id,
            stage_name,
            auto_deploy,
            rate_limit,
            burst_limit,
        };
        let stage = h
            .checked(OP, &[("apigateway:POST".to_owned(), resource)], |c, ctx| async move {
                c.apigateway.create_stage(&ctx, &req).await
            })
            .await;
        Ok(stage.map(|s| wit::Stage {
            stage_name: s.stage_name,
            auto_deploy: s.auto_deploy,
        }))
    }

    async fn get_integrations(&mut self, api_id: String) -> Answer<Vec<wit::Integration>> {
        const OP: Op = op("GetIntegrations");
        let h = &mut *self.host;
        let resource = try_call!(h.api_path(OP, &api_id, "/integrations"));
        let found = h
            .checked(OP, &[("apigateway:GET".to_owned(), resource)], |c, ctx| async move {
                c.apigateway.get_integrations(&ctx, &api_id).await
            })
            .await;
        Ok(found.map(|v| v.into_iter().map(to_wit_integration).collect()))
    }

    async fn create_integration(
        &mut self,
        api_id: String,
        function_arn: String,
        payload_format_version: String,
    ) -> Answer<wit::Integration> {
        const OP: Op = op("CreateIntegration");
        let h = &mut *self.host;
        let resource = try_call!(h.api_path(OP, &api_id, "/integrations"));
        if !function_arn.starts_with("arn:aws:lambda:") {
            return Ok(Err(h.invalid(
                OP,
                &resource,
                format!("`{function_arn}` is not a Lambda function ARN"),
            )));
        }
        if payload_format_version != "2.0" && payload_format_version != "1.0" {
            return Ok(Err(h.invalid(
                OP,
                &resource,
                format!("payload format version `{payload_format_version}` is neither 1.0 nor 2.0"),
            )));
        }
        let found = h
            .checked(OP, &[("apigateway:POST".to_owned(), resource)], |c, ctx| async move {
                c.apigateway
                    .create_integration(&ctx, &api_id, &function_arn, &payload_format_version)
                    .await
            })
            .await;
        Ok(found.map(to_wit_integration))
    }

    async fn get_routes(&mut self, api_id: String) -> Answer<Vec<wit::Route>> {
        const OP: Op = op("GetRoutes");
        let h = &mut *self.host;
        let resource = try_call!(h.api_path(OP, &api_id, "/routes"));
        let found = h
            .checked(OP, &[("apigateway:GET".to_owned(), resource)], |c, ctx| async move {
                c.apigateway.get_routes(&ctx, &api_id).await
            })
            .await;
        Ok(found.map(|v| v.into_iter().map(to_wit_route).collect()))
    }

    async fn create_route(&mut self, api_id: String, route_key: String, target: String) -> Answer<wit::Route> {
        const OP: Op = op("CreateRoute");
        let h = &mut *self.host;
        let resource = try_call!(h.api_path(OP, &api_id, "/routes"));
        if route_key.is_empty() {
            return Ok(Err(h.invalid(
                OP,
                &resource,
                "a route needs a key (`$default` or `METHOD /path`)".into(),
            )));
        }
        let found = h
            .checked(OP, &[("apigateway:POST".to_owned(), resource)], |c, ctx| async move {
                c.apigateway.create_route(&ctx, &api_id, &route_key, &target).await
            })
            .await;
        Ok(found.map(to_wit_route))
    }
}

fn to_wit_domain(d: m::DomainName) -> wit::DomainName {
    wit::DomainName {
        domain_name: d.domain_name,
        target_domain_name: d.target_domain_name,
        target_hosted_zone_id: d.target_hosted_zone_id,
    }
}

fn to_wit_mapping(m: m::ApiMapping) -> wit::ApiMapping {
    wit::ApiMapping {
        api_mapping_id: m.api_mapping_id,
        api_id: m.api_id,
        stage: m.stage,
    }
}

fn to_wit_integration(i: m::Integration) -> wit::Integration {
    wit::Integration {
        integration_id: i.integration_id,
        integration_type: i.integration_type,
        integration_uri: i.integration_uri,
        payload_format_version: i.payload_format_version,
    }
}

fn to_wit_route(r: m::Route) -> wit::Route {
    wit::Route {
        route_id: r.route_id,
        route_key: r.route_key,
        target: r.target,
    }
}
