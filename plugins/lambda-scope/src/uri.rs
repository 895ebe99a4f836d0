//! Image and asset URIs.

/// A private ECR image: `<account>.dkr.ecr.<region>.amazonaws.com/<repo>[:tag|@digest]`.
#[derive(Debug, PartialEq, Eq)]
pub struct EcrImage {
    pub account: String,
    pub region: String,
    pub repository: String,
}

/// Parses a private ECR image URI; anything else (public ECR, Docker Hub) is `None`.
pub fn ecr_image(uri: &str) -> Option<EcrImage> {
    let (host, path) = uri.split_once('/')?;
    let mut parts = host.split('.');
    let account = parts.next()?;
    if parts.next()? != "dkr" || parts.next()? != "ecr" {
        return None;
    }
    let region = parts.next()?;
    let rest: Vec<&str> = parts.collect();
    if !(rest == ["amazonaws", "com"] || rest == ["amazonaws", "com", "cn"]) {
        return None;
    }
    if account.len() != 12 || !account.chars().all(|c| c.is_ascii_digit()) || region.is_empty() {
        return None;
    }
    let repository = path.split('@').next()?.split(':').next()?;
    if repository.is_empty() {
        return None;
    }
    Some(EcrImage {
        account: account.into(),
        region: region.into(),
        repository: repository.into(),
    })
}

/// `s3://bucket/key` → (bucket, key).
pub fn s3_url(url: &str) -> Result<(String, String), String> {
    let bad = || format!("invalid asset URL format: `{url}`; expected s3://<bucket>/<key>");
    let rest = url.strip_prefix("s3://").ok_or_else(bad)?;
    let (bucket, key) = rest.split_once('/').ok_or_else(bad)?;
    if bucket.is_empty() || key.is_empty() {
        return Err(bad());
    }
    Ok((bucket.into(), key.into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ecr_uris() {
        let img = ecr_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/my-app:v1.0.0").unwrap();
        assert_eq!(
            img,
            EcrImage {
                account: "123456789012".into(),
                region: "us-east-1".into(),
                repository: "team/my-app".into()
            }
        );
        assert_eq!(
            ecr_image("123456789012.dkr.ecr.eu-west-1.amazonaws.com/app@sha256:abc")
                .unwrap()
                .repository,
            "app"
        );
        for other in [
            "public.ecr.aws/x/y:1",
            "docker.io/library/node:22",
            "12.dkr.ecr.us-east-1.amazonaws.com/a",
            "nginx",
            "123456789012.dkr.ecr.us-east-1.amazonaws.com/",
        ] {
            assert!(ecr_image(other).is_none(), "{other}");
        }
    }

    #[test]
    fn s3_urls() {
        assert_eq!(s3_url("s3://assets/app/v1.zip").unwrap(), ("assets".into(), "app/v1.zip".into()));
        for bad in ["https://x/y", "s3://bucket", "s3:///key", "s3://b/"] {
            assert!(s3_url(bad).unwrap_err().contains("expected s3://<bucket>/<key>"), "{bad}");
        }
    }
}
