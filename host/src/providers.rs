//! Provider data (account configuration), served to steps by the `providers`
//! capability. Loaded from a JSON file or a folder of JSON files; the platform API
//! is a later source behind the same type.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use thiserror::Error;

/// One provider entry, as the platform describes it.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Provider {
    #[serde(default)]
    pub id: String,
    pub nrn: String,
    pub category: String,
    #[serde(default)]
    pub specification_slug: String,
    #[serde(default)]
    pub dimensions: BTreeMap<String, String>,
    #[serde(default)]
    pub attributes: serde_json::Value,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum ProviderFile {
    List(Vec<Provider>),
    Wrapped { providers: Vec<Provider> },
    One(Provider),
}

/// Why provider data could not be loaded.
#[derive(Debug, Error)]
pub enum ProvidersError {
    #[error("reading providers {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error("providers {path} line {line} column {column}: {message}")]
    Syntax {
        path: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "providers {path}: expected a list of providers, {{\"providers\": [...]}} or one provider, each with at least `nrn` and `category`"
    )]
    Shape { path: String },
}

/// Every provider known to the run.
#[derive(Clone, Debug, Default)]
pub struct ProviderStore {
    providers: Vec<Provider>,
}

impl ProviderStore {
    pub fn new(providers: Vec<Provider>) -> Self {
        ProviderStore { providers }
    }

    /// Every provider, in the order loaded.
    pub fn all(&self) -> &[Provider] {
        &self.providers
    }

    /// Loads a JSON file, or every `*.json` file of a folder (sorted by name).
    pub fn load(path: &Path) -> Result<Self, ProvidersError> {
        let read_err = |source| ProvidersError::Read {
            path: path.display().to_string(),
            source,
        };
        let mut files = Vec::new();
        if path.is_dir() {
            for entry in std::fs::read_dir(path).map_err(read_err)? {
                let p = entry.map_err(read_err)?.path();
                if p.extension().is_some_and(|e| e == "json") {
                    files.push(p);
                }
            }
            files.sort();
        } else {
            files.push(path.to_owned());
        }
        let mut providers = Vec::new();
        for file in files {
            providers.extend(parse_file(&file)?);
        }
        Ok(ProviderStore { providers })
    }

    /// Providers of `categories` visible at `nrn` (attached to it or an ancestor)
    /// whose dimensions all appear in `dimensions`; outermost first.
    pub fn by_category(&self, nrn: &str, categories: &[String], dimensions: &BTreeMap<String, String>) -> Vec<Provider> {
        self.visible(nrn, |p| {
            categories.contains(&p.category) && p.dimensions.iter().all(|(k, v)| dimensions.get(k) == Some(v))
        })
    }

    /// The region the scope of `context` lives in: `scope.region` when the context
    /// names one, else `account.region` of the innermost cloud provider visible at
    /// the scope's NRN with matching dimensions. Calls go there unless `--region`
    /// says otherwise.
    pub fn scope_region(&self, context: &serde_json::Value) -> Option<String> {
        let scope = &context["scope"];
        if let Some(region) = scope["region"].as_str().filter(|r| !r.is_empty()) {
            return Some(region.to_owned());
        }
        let nrn = scope["nrn"].as_str()?;
        let dimensions: BTreeMap<String, String> = scope["dimensions"]
            .as_object()
            .map(|d| d.iter().filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned()))).collect())
            .unwrap_or_default();
        self.by_category(nrn, &["cloud-providers".to_owned()], &dimensions)
            .iter()
            .rev()
            .find_map(|p| {
                p.attributes["account"]["region"]
                    .as_str()
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
            })
    }

    /// Providers with `slug` visible at `nrn`; outermost first.
    pub fn by_specification(&self, nrn: &str, slug: &str) -> Vec<Provider> {
        self.visible(nrn, |p| p.specification_slug == slug)
    }

    fn visible(&self, nrn: &str, keep: impl Fn(&Provider) -> bool) -> Vec<Provider> {
        let mut found: Vec<Provider> = self
            .providers
            .iter()
            .filter(|p| is_ancestor_or_self(&p.nrn, nrn) && keep(p))
            .cloned()
            .collect();
        found.sort_by_key(|p| p.nrn.split(':').count());
        found
    }
}

/// `organization=1:account=2` is an ancestor of `organization=1:account=2:namespace=3`.
fn is_ancestor_or_self(ancestor: &str, nrn: &str) -> bool {
    !ancestor.is_empty() && (nrn == ancestor || nrn.strip_prefix(ancestor).is_some_and(|rest| rest.starts_with(':')))
}

fn parse_file(path: &Path) -> Result<Vec<Provider>, ProvidersError> {
    let p = path.display().to_string();
    let text = std::fs::read_to_string(path).map_err(|source| ProvidersError::Read { path: p.clone(), source })?;
    // Parse as JSON first for a located syntax error, then for shape.
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| ProvidersError::Syntax {
        path: p.clone(),
        line: e.line(),
        column: e.column(),
        message: crate::json_error::message(&e),
    })?;
    match serde_json::from_value::<ProviderFile>(value) {
        Ok(ProviderFile::List(v)) | Ok(ProviderFile::Wrapped { providers: v }) => Ok(v),
        Ok(ProviderFile::One(one)) => Ok(vec![one]),
        Err(_) => Err(ProvidersError::Shape { path: p }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(nrn: &str, category: &str, slug: &str, dims: &[(&str, &str)]) -> Provider {
        Provider {
            id: format!("{nrn}/{category}"),
            nrn: nrn.into(),
            category: category.into(),
            specification_slug: slug.into(),
            dimensions: dims.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            attributes: serde_json::json!({}),
        }
    }

    #[test]
    fn the_scope_region_comes_from_the_context_else_the_innermost_matching_cloud_provider() {
        let with_region = |nrn: &str, dims: &[(&str, &str)], region: &str| Provider {
            attributes: serde_json::json!({"account": {"id": "1", "region": region}}),
            ..p(nrn, "cloud-providers", "aws-configuration", dims)
        };
        let store = ProviderStore::new(vec![
            with_region("organization=1", &[], "us-east-1"),
            with_region("organization=1:account=2", &[("environment", "development")], "eu-west-1"),
            with_region("organization=1:account=2", &[("environment", "production")], "ap-south-1"),
        ]);
        let context = |region: Option<&str>, env: &str| {
            serde_json::json!({"scope": {"nrn": "organization=1:account=2:namespace=3:scope=11",
                "dimensions": {"environment": env}, "region": region}})
        };
        assert_eq!(store.scope_region(&context(None, "development")).as_deref(), Some("eu-west-1"));
        assert_eq!(store.scope_region(&context(None, "staging")).as_deref(), Some("us-east-1"));
        assert_eq!(
            store.scope_region(&context(Some("sa-east-1"), "development")).as_deref(),
            Some("sa-east-1")
        );
        assert_eq!(ProviderStore::default().scope_region(&context(None, "development")), None);
    }

    #[test]
    fn visibility_dimensions_and_order() {
        let store = ProviderStore::new(vec![
            p("organization=1:account=2:namespace=3", "vpc", "", &[]),
            p("organization=1:account=2", "vpc", "", &[("environment", "production")]),
            p("organization=1:account=2", "vpc", "", &[]),
            p("organization=1:account=22", "vpc", "", &[]),
            p("organization=1", "cloud-providers", "aws-iam-configuration", &[]),
        ]);
        let scope = "organization=1:account=2:namespace=3:application=4:scope=11";
        let dims = BTreeMap::from([("environment".to_owned(), "development".to_owned())]);
        let found = store.by_category(scope, &["vpc".into()], &dims);
        let nrns: Vec<_> = found.iter().map(|p| p.nrn.as_str()).collect();
        assert_eq!(nrns, ["organization=1:account=2", "organization=1:account=2:namespace=3"]);
        assert_eq!(store.by_specification(scope, "aws-iam-configuration").len(), 1);
        assert!(store.by_specification("organization=9", "aws-iam-configuration").is_empty());
    }

    #[test]
    fn malformed_file_has_location() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("p.json");
        std::fs::write(&f, "[\n{\"nrn\": }]").unwrap();
        let err = ProviderStore::load(&f).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
        std::fs::write(&f, "[{\"x\": 1}]").unwrap();
        assert!(ProviderStore::load(&f).unwrap_err().to_string().contains("`nrn`"));
    }
}
