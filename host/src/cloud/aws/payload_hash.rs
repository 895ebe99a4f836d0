//! Signs the payload's SHA-256 (`x-amz-content-sha256`) on the REST services'
//! requests (Lambda, API Gateway, Route 53) whose body is in memory. SigV4 allows
//! the header for every service; S3 requires it, and moto with IAM enforcement on
//! refuses their body-less GETs without it
//! (SignatureDoesNotMatch), which would make the emulator tests unable to cover
//! enforcement. The signer signs every header present, so adding it before signing
//! is enough. Streaming bodies are left alone (their hash is not known up front).

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use sha2::{Digest, Sha256};

const HEADER: &str = "x-amz-content-sha256";

#[derive(Debug, Default)]
pub(super) struct SignPayloadHash;

impl Intercept for SignPayloadHash {
    fn name(&self) -> &'static str {
        "SignPayloadHash"
    }

    fn modify_before_signing(
        &self,
        context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let request = context.request_mut();
        if request.headers().contains_key(HEADER) {
            return Ok(());
        }
        if let Some(bytes) = request.body().bytes() {
            let hash = hex::encode(Sha256::digest(bytes));
            request.headers_mut().insert(HEADER, hash);
        }
        Ok(())
    }
}
