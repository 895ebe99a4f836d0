//! Bearer tokens for the agent's API. The agent is configured with SHA-256 hashes
//! of the tokens, never the tokens: a file of hex hashes (one per line, `#`
//! comments) or `SCOPE_HOST_AGENT_TOKENS` (comma-separated). A request's token is
//! hashed and compared with every configured hash in constant time, all of them
//! every time, so neither timing nor the answer tells which tokens exist.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The configured token hashes (none: the API is open, allowed on loopback only).
#[derive(Clone, Debug, Default)]
pub struct Tokens {
    hashes: Vec<[u8; 32]>,
}

impl Tokens {
    /// Parses hashes from text (the file or the variable): 64 hex digits each,
    /// separated by newlines or commas; `#` starts a comment.
    pub fn parse(text: &str, origin: &str) -> Result<Tokens, String> {
        let mut hashes = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.split('#').next().unwrap_or_default();
            for item in line.split(',').map(str::trim).filter(|i| !i.is_empty()) {
                let mut hash = [0u8; 32];
                if item.len() != 64 || hex::decode_to_slice(item, &mut hash).is_err() {
                    return Err(format!(
                        "{origin}, line {}: expected the SHA-256 of a token as 64 hex digits (make one with `printf %s TOKEN | sha256sum`), found {} characters",
                        n + 1,
                        item.len()
                    ));
                }
                hashes.push(hash);
            }
        }
        Ok(Tokens { hashes })
    }

    pub fn is_empty(&self) -> bool {
        self.hashes.is_empty()
    }

    pub fn len(&self) -> usize {
        self.hashes.len()
    }

    /// Whether `Authorization: Bearer <token>` names a configured token.
    pub fn admits(&self, authorization: Option<&str>) -> bool {
        let token = authorization
            .and_then(|h| h.strip_prefix("Bearer ").or_else(|| h.strip_prefix("bearer ")))
            .map(str::trim)
            .unwrap_or_default();
        let presented: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let mut found = subtle::Choice::from(0u8);
        for hash in &self.hashes {
            found |= hash.ct_eq(&presented);
        }
        bool::from(found) && !token.is_empty()
    }
}

/// The SHA-256 of a token, as the configuration holds it.
pub fn hash_of(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_token_is_admitted_and_nothing_else() {
        let tokens = Tokens::parse(&format!("# ops\n{}\n{} , \n", hash_of("alpha"), hash_of("beta")), "f").unwrap();
        assert_eq!(tokens.len(), 2);
        assert!(tokens.admits(Some("Bearer alpha")));
        assert!(tokens.admits(Some("Bearer beta")));
        assert!(!tokens.admits(Some("Bearer gamma")));
        assert!(!tokens.admits(Some("alpha")), "the scheme is required");
        assert!(!tokens.admits(None));
        assert!(!Tokens::default().admits(Some("Bearer ")));
    }

    #[test]
    fn a_token_given_instead_of_its_hash_is_refused_saying_how_to_hash_it() {
        let e = Tokens::parse("my-secret-token\n", "SCOPE_HOST_AGENT_TOKENS").unwrap_err();
        assert!(e.contains("sha256sum") && e.contains("line 1"), "{e}");
        assert!(!e.contains("my-secret-token"), "the token is not echoed: {e}");
    }
}
