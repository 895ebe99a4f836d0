//! Conversions between the contract's lambda types and the host's model.

use super::ENV_VALUE_MASK;
use crate::bindings::lambda as wit;
use crate::cloud::model as m;

/// The contract's closed sets, from AWS's spellings (and back, for requests). A
/// value the contract does not know yet passes through as `other`.
pub mod closed {
    use super::wit;

    pub fn package_type(s: crate::cloud::model::PackageType) -> wit::PackageType {
        match s {
            crate::cloud::model::PackageType::Zip => wit::PackageType::Zip,
            crate::cloud::model::PackageType::Image => wit::PackageType::Image,
        }
    }

    pub fn architecture(s: String) -> wit::Architecture {
        match s.as_str() {
            "x86_64" => wit::Architecture::X8664,
            "arm64" => wit::Architecture::Arm64,
            _ => wit::Architecture::Other(s),
        }
    }

    pub fn architecture_name(a: wit::Architecture) -> String {
        match a {
            wit::Architecture::X8664 => "x86_64".into(),
            wit::Architecture::Arm64 => "arm64".into(),
            wit::Architecture::Other(s) => s,
        }
    }

    pub fn function_state(s: String) -> wit::FunctionState {
        match s.as_str() {
            "Pending" => wit::FunctionState::Pending,
            "Active" => wit::FunctionState::Active,
            "Inactive" => wit::FunctionState::Inactive,
            "Failed" => wit::FunctionState::Failed,
            _ => wit::FunctionState::Other(s),
        }
    }

    pub fn update_status(s: String) -> wit::UpdateStatus {
        match s.as_str() {
            "InProgress" => wit::UpdateStatus::InProgress,
            "Successful" => wit::UpdateStatus::Successful,
            "Failed" => wit::UpdateStatus::Failed,
            _ => wit::UpdateStatus::Other(s),
        }
    }

    pub fn provisioned_status(s: String) -> wit::ProvisionedConcurrencyStatus {
        match s.as_str() {
            "IN_PROGRESS" => wit::ProvisionedConcurrencyStatus::InProgress,
            "READY" => wit::ProvisionedConcurrencyStatus::Ready,
            "FAILED" => wit::ProvisionedConcurrencyStatus::Failed,
            _ => wit::ProvisionedConcurrencyStatus::Other(s),
        }
    }
}

pub(super) fn to_wit_provisioned(p: m::ProvisionedConcurrency) -> wit::ProvisionedConcurrency {
    wit::ProvisionedConcurrency {
        requested: p.requested,
        allocated: p.allocated,
        available: p.available,
        status: closed::provisioned_status(p.status),
        status_reason: p.status_reason,
    }
}

pub(super) fn to_wit_config(c: m::FunctionConfiguration) -> wit::FunctionConfiguration {
    wit::FunctionConfiguration {
        function_name: c.function_name,
        function_arn: c.function_arn,
        version: c.version,
        description: c.description,
        package_type: closed::package_type(c.package_type),
        runtime: c.runtime,
        handler: c.handler,
        role: c.role,
        memory_size: c.memory_size,
        timeout: c.timeout,
        ephemeral_storage: c.ephemeral_storage,
        architectures: c.architectures.into_iter().map(closed::architecture).collect(),
        // The contract promises the host redacts environment values (they may be
        // secrets no run registered): a step sees the names only.
        environment: c
            .environment
            .into_iter()
            .map(|(name, _)| (name, ENV_VALUE_MASK.to_owned()))
            .collect(),
        layers: c.layers,
        subnet_ids: c.subnet_ids,
        security_group_ids: c.security_group_ids,
        image_uri: c.image_uri,
        code_sha256: c.code_sha256,
        state: closed::function_state(c.state),
        state_reason: c.state_reason,
        last_update_status: closed::update_status(c.last_update_status),
        last_update_status_reason: c.last_update_status_reason,
        revision_id: c.revision_id,
    }
}

pub(super) fn to_wit_version(v: m::VersionInfo) -> wit::VersionInfo {
    wit::VersionInfo {
        version: v.version,
        description: v.description,
        function_arn: v.function_arn,
        code_sha256: v.code_sha256,
    }
}

pub(super) fn to_wit_alias(a: m::Alias) -> wit::Alias {
    wit::Alias {
        name: a.name,
        alias_arn: a.alias_arn,
        function_version: a.function_version,
        description: a.description,
        routing: a
            .routing
            .into_iter()
            .map(|w| wit::VersionWeight {
                version: w.version,
                weight: w.weight,
            })
            .collect(),
        revision_id: a.revision_id,
    }
}

pub(super) fn from_wit_routing(r: Vec<wit::VersionWeight>) -> Vec<m::VersionWeight> {
    r.into_iter()
        .map(|w| m::VersionWeight {
            version: w.version,
            weight: w.weight,
        })
        .collect()
}

pub(super) fn check_routing(routing: &[wit::VersionWeight]) -> Result<(), String> {
    for w in routing {
        if !(0.0..=1.0).contains(&w.weight) || w.weight.is_nan() {
            return Err(format!("routing weight {} for version {} is outside 0.0–1.0", w.weight, w.version));
        }
    }
    Ok(())
}
