//! ECR image URIs: `<account>.dkr.ecr.<region>.amazonaws.com/<repository>:<tag>`.

/// An ECR image named by tag.
#[derive(Debug, PartialEq)]
pub struct ImageUri {
    pub account: String,
    pub region: String,
    pub repository: String,
    pub tag: String,
    registry_host: String,
}

impl ImageUri {
    /// Parses a tagged ECR URI; the error says what is wrong with it.
    pub fn parse(uri: &str) -> Result<ImageUri, String> {
        let (host, path) = uri
            .split_once('/')
            .ok_or("has no repository path (expected <account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>)")?;
        let mut labels = host.split('.');
        let (account, dkr, ecr, region) = (labels.next(), labels.next(), labels.next(), labels.next());
        let (Some(account), Some("dkr"), Some("ecr"), Some(region)) = (account, dkr, ecr, region) else {
            return Err(format!(
                "is not an ECR registry ({host} is not <account>.dkr.ecr.<region>.amazonaws.com)"
            ));
        };
        if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) {
            return Err(format!("names account `{account}`, which is not 12 digits"));
        }
        if path.contains('@') {
            return Err("is already pinned to a digest".into());
        }
        let (repository, tag) = path.rsplit_once(':').ok_or("has no tag (expected …/<repo>:<tag>)")?;
        if repository.is_empty() || tag.is_empty() {
            return Err("has an empty repository or tag".into());
        }
        Ok(ImageUri {
            account: account.into(),
            region: region.into(),
            repository: repository.into(),
            tag: tag.into(),
            registry_host: host.into(),
        })
    }

    /// The same image by digest: `<host>/<repository>@sha256:…`.
    pub fn pinned(&self, digest: &str) -> String {
        format!("{}/{}@{digest}", self.registry_host, self.repository)
    }
}
