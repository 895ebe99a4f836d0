//! The scope's networking in the sim: API Gateway v2 HTTP APIs (stages,
//! integrations, routes), load balancer listeners with their rules and lambda
//! target groups, and Route 53 hosted zones with their records — loaded from and
//! dumped to the fixture's `networking` section, answered with AWS's error codes
//! (NotFoundException, DuplicateTargetGroupName, PriorityInUse, TargetGroupNotFound,
//! NoSuchHostedZone, InvalidChangeBatch …).

use super::errors::{Api, Fault, Service};
use super::fixture::{
    ApiFixture, DomainNameFixture, HostedZoneFixture, ListenerFixture, NetworkingFixture, RecordFixture, RuleFixture, TargetGroupFixture,
};
use super::state::State;
use super::SimCloud;
use crate::cloud::{
    ApiGatewayApi, ApiMapping, CallCtx, ChangeAction, CloudResult, Cors, CreateRule, CreateStage, CreateTargetGroup, DomainName, ElbApi,
    HostedZone, HttpApi, Integration, Listener, ListenerRule, RecordSet, Route, Route53Api, Stage, TargetGroup,
};
use std::collections::BTreeMap;

/// Every networking resource the sim holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Networking {
    /// Keyed by API id.
    pub apis: BTreeMap<String, ApiState>,
    /// Keyed by listener ARN.
    pub listeners: BTreeMap<String, ListenerState>,
    /// Keyed by target group name.
    pub target_groups: BTreeMap<String, TargetGroupState>,
    /// Keyed by zone id.
    pub zones: BTreeMap<String, ZoneState>,
    /// Keyed by domain name.
    pub domains: BTreeMap<String, DomainState>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct DomainState {
    pub certificate_arn: String,
    pub region: String,
    /// API id → stage.
    pub mappings: BTreeMap<String, String>,
}

/// The hosted zone of API Gateway's regional endpoints (AWS publishes one per region).
fn regional_zone(region: &str) -> String {
    match region {
        "us-east-1" => "Z1UJRXOUMOOFQ8".to_owned(),
        other => format!("Z{}", &crate::cloud::sim::state::sha256_hex(other)[..12].to_ascii_uppercase()),
    }
}

/// A domain's regional endpoint name.
fn regional_target(domain: &str, region: &str) -> String {
    format!(
        "d-{}.execute-api.{region}.amazonaws.com",
        &crate::cloud::sim::state::sha256_hex(domain)[..10]
    )
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct ApiState {
    pub name: String,
    pub region: String,
    pub tags: BTreeMap<String, String>,
    pub cors: Option<Cors>,
    pub stages: BTreeMap<String, bool>,
    pub integrations: BTreeMap<String, String>,
    pub routes: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct ListenerState {
    pub dns_name: String,
    /// Keyed by priority.
    pub rules: BTreeMap<u32, RuleState>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct RuleState {
    pub arn: String,
    pub hosts: Vec<String>,
    pub target_group_arns: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct TargetGroupState {
    pub arn: String,
    pub health_check_path: Option<String>,
    pub targets: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq)]
pub(super) struct ZoneState {
    /// With the trailing dot.
    pub name: String,
    /// Keyed by (name with the trailing dot, type).
    pub records: BTreeMap<(String, String), RecordFixture>,
}

/// A DNS name with its trailing dot.
fn fqdn(name: &str) -> String {
    if name.ends_with('.') {
        name.to_owned()
    } else {
        format!("{name}.")
    }
}

impl Networking {
    pub(super) fn load(fx: NetworkingFixture, region: &str) -> Result<Networking, String> {
        let mut n = Networking::default();
        for a in fx.apis {
            if n.apis.contains_key(&a.id) {
                return Err(format!("api \"{}\" is listed twice", a.id));
            }
            n.apis.insert(
                a.id,
                ApiState {
                    name: a.name,
                    region: a.region.unwrap_or_else(|| region.to_owned()),
                    tags: a.tags,
                    cors: None,
                    stages: a.stages,
                    integrations: a.integrations,
                    routes: a.routes,
                },
            );
        }
        for d in fx.domain_names {
            n.domains.insert(
                d.name,
                DomainState {
                    certificate_arn: d.certificate_arn,
                    region: d.region.unwrap_or_else(|| region.to_owned()),
                    mappings: d.mappings,
                },
            );
        }
        for l in fx.listeners {
            if !l.arn.starts_with("arn:aws:elasticloadbalancing:") || !l.arn.contains(":listener/") {
                return Err(format!("listener \"{}\" is not a listener ARN", l.arn));
            }
            let mut rules = BTreeMap::new();
            for (i, r) in l.rules.into_iter().enumerate() {
                if !(1..=50_000).contains(&r.priority) || rules.contains_key(&r.priority) {
                    return Err(format!(
                        "listener \"{}\": rule priority {} is out of range or taken",
                        l.arn, r.priority
                    ));
                }
                let arn = r.arn.unwrap_or_else(|| rule_arn(&l.arn, &format!("fixture{i}")));
                rules.insert(
                    r.priority,
                    RuleState {
                        arn,
                        hosts: r.hosts,
                        target_group_arns: r.target_group_arns,
                    },
                );
            }
            n.listeners.insert(
                l.arn,
                ListenerState {
                    dns_name: l.dns_name,
                    rules,
                },
            );
        }
        for g in fx.target_groups {
            let arn = g
                .arn
                .unwrap_or_else(|| format!("arn:aws:elasticloadbalancing:{region}:123456789012:targetgroup/{}/fixture", g.name));
            n.target_groups.insert(
                g.name,
                TargetGroupState {
                    arn,
                    health_check_path: g.health_check_path,
                    targets: g.targets,
                    tags: g.tags,
                },
            );
        }
        for z in fx.hosted_zones {
            let records = z
                .records
                .into_iter()
                .map(|r| ((fqdn(&r.name), r.record_type.clone()), RecordFixture { name: fqdn(&r.name), ..r }))
                .collect();
            n.zones.insert(
                z.id,
                ZoneState {
                    name: fqdn(&z.name),
                    records,
                },
            );
        }
        Ok(n)
    }

    pub(super) fn dump(&self) -> NetworkingFixture {
        NetworkingFixture {
            apis: self
                .apis
                .iter()
                .map(|(id, a)| ApiFixture {
                    id: id.clone(),
                    name: a.name.clone(),
                    region: Some(a.region.clone()),
                    tags: a.tags.clone(),
                    stages: a.stages.clone(),
                    integrations: a.integrations.clone(),
                    routes: a.routes.clone(),
                })
                .collect(),
            domain_names: self
                .domains
                .iter()
                .map(|(name, d)| DomainNameFixture {
                    name: name.clone(),
                    certificate_arn: d.certificate_arn.clone(),
                    region: Some(d.region.clone()),
                    mappings: d.mappings.clone(),
                })
                .collect(),
            listeners: self
                .listeners
                .iter()
                .map(|(arn, l)| ListenerFixture {
                    arn: arn.clone(),
                    dns_name: l.dns_name.clone(),
                    rules: l
                        .rules
                        .iter()
                        .map(|(p, r)| RuleFixture {
                            priority: *p,
                            arn: Some(r.arn.clone()),
                            hosts: r.hosts.clone(),
                            target_group_arns: r.target_group_arns.clone(),
                        })
                        .collect(),
                })
                .collect(),
            target_groups: self
                .target_groups
                .iter()
                .map(|(name, g)| TargetGroupFixture {
                    name: name.clone(),
                    arn: Some(g.arn.clone()),
                    health_check_path: g.health_check_path.clone(),
                    targets: g.targets.clone(),
                    tags: g.tags.clone(),
                })
                .collect(),
            hosted_zones: self
                .zones
                .iter()
                .map(|(id, z)| HostedZoneFixture {
                    id: id.clone(),
                    name: z.name.clone(),
                    records: z.records.values().cloned().collect(),
                })
                .collect(),
        }
    }
}

/// A rule's ARN under its listener's.
fn rule_arn(listener_arn: &str, id: &str) -> String {
    format!("{}/{id}", listener_arn.replacen(":listener/", ":listener-rule/", 1))
}

const fn apigw(operation: &'static str) -> Api {
    Api::new(Service::ApiGateway, operation)
}

const fn elb(operation: &'static str) -> Api {
    Api::new(Service::Elb, operation)
}

const fn r53(operation: &'static str) -> Api {
    Api::new(Service::Route53, operation)
}

impl State {
    fn next_resource_id(&mut self) -> String {
        self.counters.resources += 1;
        format!("sim{:07}", self.counters.resources)
    }

    fn apigw_resource(ctx: &CallCtx, path: &str) -> String {
        format!("arn:aws:apigateway:{}::{path}", ctx.region)
    }

    fn api_mut(&mut self, ctx: &CallCtx, api: Api, verb: &str, api_id: &str, rest: &str) -> Result<&mut ApiState, Fault> {
        self.authorize_action(
            ctx,
            api,
            &format!("apigateway:{verb}"),
            &Self::apigw_resource(ctx, &format!("/apis/{api_id}{rest}")),
        )?;
        self.networking
            .apis
            .get_mut(api_id)
            .filter(|a| a.region == ctx.region)
            .ok_or_else(|| Fault::new("NotFoundException", format!("Unable to find Api with id '{api_id}'")))
    }

    fn http_api(ctx: &CallCtx, id: &str, a: &ApiState) -> HttpApi {
        HttpApi {
            api_id: id.to_owned(),
            name: a.name.clone(),
            api_endpoint: format!("https://{id}.execute-api.{}.amazonaws.com", ctx.region),
            tags: a.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        }
    }

    fn listener_mut(&mut self, arn: &str) -> Result<&mut ListenerState, Fault> {
        self.networking
            .listeners
            .get_mut(arn)
            .ok_or_else(|| Fault::new("ListenerNotFound", format!("Listener '{arn}' not found")))
    }

    fn zone_mut(&mut self, ctx: &CallCtx, api: Api, id: &str) -> Result<&mut ZoneState, Fault> {
        self.authorize(ctx, api, &format!("arn:aws:route53:::hostedzone/{id}"))?;
        self.networking
            .zones
            .get_mut(id)
            .ok_or_else(|| Fault::new("NoSuchHostedZone", format!("No hosted zone found with ID: {id}")))
    }
}

#[async_trait::async_trait]
impl ApiGatewayApi for SimCloud {
    async fn get_apis(&self, ctx: &CallCtx) -> CloudResult<Vec<HttpApi>> {
        self.call(apigw("GetApis"), |st, api| {
            st.authorize_action(ctx, api, "apigateway:GET", &State::apigw_resource(ctx, "/apis"))?;
            Ok(st
                .networking
                .apis
                .iter()
                .filter(|(_, a)| a.region == ctx.region)
                .map(|(id, a)| State::http_api(ctx, id, a))
                .collect())
        })
        .await
    }

    async fn create_api(&self, ctx: &CallCtx, name: &str, cors: Option<&Cors>, tags: &[(String, String)]) -> CloudResult<HttpApi> {
        self.call(apigw("CreateApi"), |st, api| {
            st.authorize_action(ctx, api, "apigateway:POST", &State::apigw_resource(ctx, "/apis"))?;
            if !tags.is_empty() {
                st.authorize_action(ctx, api, "apigateway:POST", &State::apigw_resource(ctx, "/tags/*"))?;
            }
            // API Gateway allows two APIs of one name: finding by name is the caller's job.
            let id = st.next_resource_id();
            let state = ApiState {
                name: name.to_owned(),
                region: ctx.region.clone(),
                tags: tags.iter().cloned().collect(),
                cors: cors.cloned(),
                stages: BTreeMap::new(),
                integrations: BTreeMap::new(),
                routes: BTreeMap::new(),
            };
            let answer = State::http_api(ctx, &id, &state);
            st.networking.apis.insert(id, state);
            Ok(answer)
        })
        .await
    }

    async fn delete_api(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<()> {
        self.call(apigw("DeleteApi"), |st, api| {
            st.api_mut(ctx, api, "DELETE", api_id, "")?;
            st.networking.apis.remove(api_id);
            Ok(())
        })
        .await
    }

    async fn get_domain_name(&self, ctx: &CallCtx, domain_name: &str) -> CloudResult<DomainName> {
        self.call(apigw("GetDomainName"), |st, api| {
            st.authorize_action(
                ctx,
                api,
                "apigateway:GET",
                &State::apigw_resource(ctx, &format!("/domainnames/{domain_name}")),
            )?;
            st.networking
                .domains
                .get(domain_name)
                .filter(|d| d.region == ctx.region)
                .map(|d| DomainName {
                    domain_name: domain_name.to_owned(),
                    target_domain_name: regional_target(domain_name, &d.region),
                    target_hosted_zone_id: regional_zone(&d.region),
                })
                .ok_or_else(|| {
                    Fault::new(
                        "NotFoundException",
                        format!("The domain name resource specified in the request was not found: {domain_name}"),
                    )
                })
        })
        .await
    }

    async fn create_domain_name(
        &self,
        ctx: &CallCtx,
        domain_name: &str,
        certificate_arn: &str,
        tags: &[(String, String)],
    ) -> CloudResult<DomainName> {
        self.call(apigw("CreateDomainName"), |st, api| {
            st.authorize_action(ctx, api, "apigateway:POST", &State::apigw_resource(ctx, "/domainnames"))?;
            if !tags.is_empty() {
                st.authorize_action(ctx, api, "apigateway:POST", &State::apigw_resource(ctx, "/tags/*"))?;
            }
            if st.networking.domains.contains_key(domain_name) {
                return Err(Fault::new(
                    "ConflictException",
                    format!("The domain name you provided already exists: {domain_name}"),
                ));
            }
            if !certificate_arn.starts_with(&format!("arn:aws:acm:{}:", ctx.region)) {
                return Err(Fault::new(
                    "BadRequestException",
                    format!(
                        "Certificate {certificate_arn} not found in the region of the domain ({})",
                        ctx.region
                    ),
                ));
            }
            st.networking.domains.insert(
                domain_name.to_owned(),
                DomainState {
                    certificate_arn: certificate_arn.to_owned(),
                    region: ctx.region.clone(),
                    mappings: BTreeMap::new(),
                },
            );
            Ok(DomainName {
                domain_name: domain_name.to_owned(),
                target_domain_name: regional_target(domain_name, &ctx.region),
                target_hosted_zone_id: regional_zone(&ctx.region),
            })
        })
        .await
    }

    async fn delete_domain_name(&self, ctx: &CallCtx, domain_name: &str) -> CloudResult<()> {
        self.call(apigw("DeleteDomainName"), |st, api| {
            st.authorize_action(
                ctx,
                api,
                "apigateway:DELETE",
                &State::apigw_resource(ctx, &format!("/domainnames/{domain_name}")),
            )?;
            st.networking.domains.remove(domain_name).map(|_| ()).ok_or_else(|| {
                Fault::new(
                    "NotFoundException",
                    format!("The domain name resource specified in the request was not found: {domain_name}"),
                )
            })
        })
        .await
    }

    async fn get_api_mappings(&self, ctx: &CallCtx, domain_name: &str) -> CloudResult<Vec<ApiMapping>> {
        self.call(apigw("GetApiMappings"), |st, api| {
            st.authorize_action(
                ctx,
                api,
                "apigateway:GET",
                &State::apigw_resource(ctx, &format!("/domainnames/{domain_name}/apimappings")),
            )?;
            let d = st.networking.domains.get(domain_name).ok_or_else(|| {
                Fault::new(
                    "NotFoundException",
                    format!("The domain name resource specified in the request was not found: {domain_name}"),
                )
            })?;
            Ok(d.mappings
                .iter()
                .map(|(api_id, stage)| ApiMapping {
                    api_mapping_id: format!("m-{api_id}"),
                    api_id: api_id.clone(),
                    stage: stage.clone(),
                })
                .collect())
        })
        .await
    }

    async fn create_api_mapping(&self, ctx: &CallCtx, domain_name: &str, api_id: &str, stage: &str) -> CloudResult<ApiMapping> {
        self.call(apigw("CreateApiMapping"), |st, api| {
            st.authorize_action(
                ctx,
                api,
                "apigateway:POST",
                &State::apigw_resource(ctx, &format!("/domainnames/{domain_name}/apimappings")),
            )?;
            let has_stage = st.networking.apis.get(api_id).is_some_and(|a| a.stages.contains_key(stage));
            if !has_stage {
                return Err(Fault::new(
                    "NotFoundException",
                    format!("Invalid stage identifier specified: {api_id}/{stage}"),
                ));
            }
            let d = st.networking.domains.get_mut(domain_name).ok_or_else(|| {
                Fault::new(
                    "NotFoundException",
                    format!("The domain name resource specified in the request was not found: {domain_name}"),
                )
            })?;
            if d.mappings.contains_key(api_id) {
                return Err(Fault::new("ConflictException", format!("API mapping already exists for {api_id}")));
            }
            d.mappings.insert(api_id.to_owned(), stage.to_owned());
            Ok(ApiMapping {
                api_mapping_id: format!("m-{api_id}"),
                api_id: api_id.to_owned(),
                stage: stage.to_owned(),
            })
        })
        .await
    }

    async fn get_stages(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<Vec<Stage>> {
        self.call(apigw("GetStages"), |st, api| {
            let a = st.api_mut(ctx, api, "GET", api_id, "/stages")?;
            Ok(a.stages
                .iter()
                .map(|(name, auto)| Stage {
                    stage_name: name.clone(),
                    auto_deploy: *auto,
                })
                .collect())
        })
        .await
    }

    async fn create_stage(&self, ctx: &CallCtx, req: &CreateStage) -> CloudResult<Stage> {
        self.call(apigw("CreateStage"), |st, api| {
            let a = st.api_mut(ctx, api, "POST", &req.api_id, "/stages")?;
            if a.stages.contains_key(&req.stage_name) {
                return Err(Fault::new("ConflictException", format!("Stage already exists: {}", req.stage_name)));
            }
            a.stages.insert(req.stage_name.clone(), req.auto_deploy);
            Ok(Stage {
                stage_name: req.stage_name.clone(),
                auto_deploy: req.auto_deploy,
            })
        })
        .await
    }

    async fn get_integrations(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<Vec<Integration>> {
        self.call(apigw("GetIntegrations"), |st, api| {
            let a = st.api_mut(ctx, api, "GET", api_id, "/integrations")?;
            Ok(a.integrations
                .iter()
                .map(|(id, uri)| Integration {
                    integration_id: id.clone(),
                    integration_type: "AWS_PROXY".into(),
                    integration_uri: uri.clone(),
                    payload_format_version: "2.0".into(),
                })
                .collect())
        })
        .await
    }

    async fn create_integration(
        &self,
        ctx: &CallCtx,
        api_id: &str,
        function_arn: &str,
        payload_format_version: &str,
    ) -> CloudResult<Integration> {
        self.call(apigw("CreateIntegration"), |st, api| {
            st.api_mut(ctx, api, "POST", api_id, "/integrations")?;
            let id = st.next_resource_id();
            let a = st.api_mut(ctx, api, "POST", api_id, "/integrations")?;
            a.integrations.insert(id.clone(), function_arn.to_owned());
            Ok(Integration {
                integration_id: id,
                integration_type: "AWS_PROXY".into(),
                integration_uri: function_arn.to_owned(),
                payload_format_version: payload_format_version.to_owned(),
            })
        })
        .await
    }

    async fn get_routes(&self, ctx: &CallCtx, api_id: &str) -> CloudResult<Vec<Route>> {
        self.call(apigw("GetRoutes"), |st, api| {
            let a = st.api_mut(ctx, api, "GET", api_id, "/routes")?;
            Ok(a.routes
                .iter()
                .map(|(key, target)| Route {
                    route_id: format!("r-{}", &crate::cloud::sim::state::sha256_hex(key)[..7]),
                    route_key: key.clone(),
                    target: Some(target.clone()),
                })
                .collect())
        })
        .await
    }

    async fn create_route(&self, ctx: &CallCtx, api_id: &str, route_key: &str, target: &str) -> CloudResult<Route> {
        self.call(apigw("CreateRoute"), |st, api| {
            let a = st.api_mut(ctx, api, "POST", api_id, "/routes")?;
            if a.routes.contains_key(route_key) {
                return Err(Fault::new(
                    "ConflictException",
                    format!("Route with key {route_key} already exists for this API"),
                ));
            }
            if let Some(id) = target.strip_prefix("integrations/") {
                if !a.integrations.contains_key(id) {
                    return Err(Fault::new("BadRequestException", format!("Invalid integration id specified: {id}")));
                }
            }
            a.routes.insert(route_key.to_owned(), target.to_owned());
            Ok(Route {
                route_id: format!("r-{}", &crate::cloud::sim::state::sha256_hex(route_key)[..7]),
                route_key: route_key.to_owned(),
                target: Some(target.to_owned()),
            })
        })
        .await
    }
}

#[async_trait::async_trait]
impl ElbApi for SimCloud {
    async fn describe_target_groups(&self, ctx: &CallCtx, names: &[String]) -> CloudResult<Vec<TargetGroup>> {
        self.call(elb("DescribeTargetGroups"), |st, api| {
            st.authorize(ctx, api, "*")?;
            let groups = &st.networking.target_groups;
            if let Some(missing) = names.iter().find(|n| !groups.contains_key(*n)) {
                return Err(Fault::new(
                    "TargetGroupNotFound",
                    format!("One or more target groups not found: '{missing}'"),
                ));
            }
            Ok(groups
                .iter()
                .filter(|(n, _)| names.is_empty() || names.contains(n))
                .map(|(name, g)| TargetGroup {
                    arn: g.arn.clone(),
                    name: name.clone(),
                    target_type: "lambda".into(),
                    health_check_path: g.health_check_path.clone(),
                })
                .collect())
        })
        .await
    }

    async fn create_target_group(&self, ctx: &CallCtx, req: &CreateTargetGroup) -> CloudResult<TargetGroup> {
        self.call(elb("CreateTargetGroup"), |st, api| {
            let arn_prefix = format!(
                "arn:aws:elasticloadbalancing:{}:{}:targetgroup/{}",
                ctx.region, st.account_id, req.name
            );
            st.authorize(ctx, api, &format!("{arn_prefix}/*"))?;
            if st.networking.target_groups.contains_key(&req.name) {
                return Err(Fault::new(
                    "DuplicateTargetGroupName",
                    "A target group with the same name exists, but with different settings",
                ));
            }
            let id = st.next_resource_id();
            let group = TargetGroupState {
                arn: format!("{arn_prefix}/{id}"),
                health_check_path: Some(req.health_check.path.clone()),
                targets: Vec::new(),
                tags: req.tags.iter().cloned().collect(),
            };
            let answer = TargetGroup {
                arn: group.arn.clone(),
                name: req.name.clone(),
                target_type: "lambda".into(),
                health_check_path: group.health_check_path.clone(),
            };
            st.networking.target_groups.insert(req.name.clone(), group);
            Ok(answer)
        })
        .await
    }

    async fn delete_target_group(&self, ctx: &CallCtx, arn: &str) -> CloudResult<()> {
        self.call(elb("DeleteTargetGroup"), |st, api| {
            st.authorize(ctx, api, arn)?;
            let in_use = st
                .networking
                .listeners
                .values()
                .flat_map(|l| l.rules.values())
                .any(|r| r.target_group_arns.iter().any(|t| t == arn));
            if in_use {
                return Err(Fault::new(
                    "ResourceInUse",
                    format!("Target group '{arn}' is currently in use by a listener or a rule"),
                ));
            }
            // Deleting a target group that is not there succeeds, as in ELB.
            st.networking.target_groups.retain(|_, g| g.arn != arn);
            Ok(())
        })
        .await
    }

    async fn register_target(&self, ctx: &CallCtx, target_group_arn: &str, function_arn: &str) -> CloudResult<()> {
        self.call(elb("RegisterTargets"), |st, api| {
            st.authorize(ctx, api, target_group_arn)?;
            let group = st
                .networking
                .target_groups
                .values_mut()
                .find(|g| g.arn == target_group_arn)
                .ok_or_else(|| Fault::new("TargetGroupNotFound", format!("Target groups '{target_group_arn}' not found")))?;
            if !group.targets.iter().any(|t| t == function_arn) {
                group.targets = vec![function_arn.to_owned()];
            }
            Ok(())
        })
        .await
    }

    async fn describe_targets(&self, ctx: &CallCtx, target_group_arn: &str) -> CloudResult<Vec<String>> {
        self.call(elb("DescribeTargetHealth"), |st, api| {
            st.authorize(ctx, api, "*")?;
            st.networking
                .target_groups
                .values()
                .find(|g| g.arn == target_group_arn)
                .map(|g| g.targets.clone())
                .ok_or_else(|| Fault::new("TargetGroupNotFound", format!("Target groups '{target_group_arn}' not found")))
        })
        .await
    }

    async fn describe_listener(&self, ctx: &CallCtx, listener_arn: &str) -> CloudResult<Listener> {
        self.call(elb("DescribeListeners"), |st, api| {
            st.authorize(ctx, api, "*")?;
            let l = st.listener_mut(listener_arn)?;
            let load_balancer_arn = listener_arn
                .replacen(":listener/", ":loadbalancer/", 1)
                .rsplit_once('/')
                .map(|(lb, _)| lb.to_owned())
                .unwrap_or_default();
            Ok(Listener {
                arn: listener_arn.to_owned(),
                load_balancer_arn,
                dns_name: l.dns_name.clone(),
            })
        })
        .await
    }

    async fn describe_rules(&self, ctx: &CallCtx, listener_arn: &str) -> CloudResult<Vec<ListenerRule>> {
        self.call(elb("DescribeRules"), |st, api| {
            st.authorize(ctx, api, "*")?;
            let l = st.listener_mut(listener_arn)?;
            let mut rules: Vec<ListenerRule> = l
                .rules
                .iter()
                .map(|(p, r)| ListenerRule {
                    arn: r.arn.clone(),
                    priority: p.to_string(),
                    hosts: r.hosts.clone(),
                    target_group_arns: r.target_group_arns.clone(),
                })
                .collect();
            rules.push(ListenerRule {
                arn: rule_arn(listener_arn, "default"),
                priority: "default".into(),
                hosts: vec![],
                target_group_arns: vec![],
            });
            Ok(rules)
        })
        .await
    }

    async fn create_rule(&self, ctx: &CallCtx, req: &CreateRule) -> CloudResult<ListenerRule> {
        self.call(elb("CreateRule"), |st, api| {
            st.authorize(ctx, api, &req.listener_arn)?;
            if !st.networking.target_groups.values().any(|g| g.arn == req.target_group_arn) {
                return Err(Fault::new(
                    "TargetGroupNotFound",
                    format!("Target groups '{}' not found", req.target_group_arn),
                ));
            }
            let id = st.next_resource_id();
            let listener_arn = req.listener_arn.clone();
            let l = st.listener_mut(&listener_arn)?;
            if l.rules.contains_key(&req.priority) {
                return Err(Fault::new(
                    "PriorityInUse",
                    format!("Priority '{}' is currently in use", req.priority),
                ));
            }
            let rule = RuleState {
                arn: rule_arn(&listener_arn, &id),
                hosts: req.hosts.clone(),
                target_group_arns: vec![req.target_group_arn.clone()],
            };
            let answer = ListenerRule {
                arn: rule.arn.clone(),
                priority: req.priority.to_string(),
                hosts: rule.hosts.clone(),
                target_group_arns: rule.target_group_arns.clone(),
            };
            l.rules.insert(req.priority, rule);
            Ok(answer)
        })
        .await
    }

    async fn delete_rule(&self, ctx: &CallCtx, rule_arn: &str) -> CloudResult<()> {
        self.call(elb("DeleteRule"), |st, api| {
            st.authorize(ctx, api, rule_arn)?;
            for l in st.networking.listeners.values_mut() {
                let before = l.rules.len();
                l.rules.retain(|_, r| r.arn != rule_arn);
                if l.rules.len() != before {
                    return Ok(());
                }
            }
            Err(Fault::new("RuleNotFound", format!("One or more rules not found: '{rule_arn}'")))
        })
        .await
    }
}

#[async_trait::async_trait]
impl Route53Api for SimCloud {
    async fn get_hosted_zone(&self, ctx: &CallCtx, zone_id: &str) -> CloudResult<HostedZone> {
        self.call(r53("GetHostedZone"), |st, api| {
            let z = st.zone_mut(ctx, api, zone_id)?;
            Ok(HostedZone {
                id: zone_id.to_owned(),
                name: z.name.clone(),
            })
        })
        .await
    }

    async fn list_resource_record_sets(
        &self,
        ctx: &CallCtx,
        zone_id: &str,
        name: &str,
        record_type: &str,
        max_items: u32,
    ) -> CloudResult<Vec<RecordSet>> {
        self.call(r53("ListResourceRecordSets"), |st, api| {
            let z = st.zone_mut(ctx, api, zone_id)?;
            let start = (fqdn(name), record_type.to_owned());
            Ok(z.records
                .range(start..)
                .take(max_items as usize)
                .map(|(_, r)| RecordSet {
                    name: r.name.clone(),
                    record_type: r.record_type.clone(),
                    ttl: r.ttl,
                    values: r.values.clone(),
                    alias_target: r.alias_target.clone(),
                })
                .collect())
        })
        .await
    }

    async fn change_resource_record_sets(
        &self,
        ctx: &CallCtx,
        zone_id: &str,
        action: ChangeAction,
        record: &RecordSet,
    ) -> CloudResult<String> {
        self.call(r53("ChangeResourceRecordSets"), |st, api| {
            let id = st.next_resource_id();
            let z = st.zone_mut(ctx, api, zone_id)?;
            let name = fqdn(&record.name);
            if !name.ends_with(&z.name) {
                return Err(Fault::new(
                    "InvalidChangeBatch",
                    format!("RRSet with DNS name {name} is not permitted in zone {}", z.name),
                ));
            }
            let key = (name.clone(), record.record_type.clone());
            match action {
                ChangeAction::Upsert => {
                    z.records.insert(
                        key,
                        RecordFixture {
                            name,
                            record_type: record.record_type.clone(),
                            ttl: record.ttl,
                            values: record.values.clone(),
                            alias_target: record.alias_target.clone(),
                        },
                    );
                }
                ChangeAction::Delete => {
                    let matches = z
                        .records
                        .get(&key)
                        .is_some_and(|r| r.values == record.values && r.ttl == record.ttl && r.alias_target == record.alias_target);
                    if !matches {
                        return Err(Fault::new(
                            "InvalidChangeBatch",
                            format!(
                                "Tried to delete resource record set [name='{name}', type='{}'] but it was not found",
                                record.record_type
                            ),
                        ));
                    }
                    z.records.remove(&key);
                }
            }
            Ok(format!("C{id}"))
        })
        .await
    }
}
