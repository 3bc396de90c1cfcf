//! S3-compatible object storage: the settings of `[media]` and the client they make.

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::path::Path as ObjectPath;

/// Where in which bucket media files live, and how to reach it. The credentials are given here
/// or taken from the standard `AWS_*` environment variables.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct S3Settings {
    pub bucket: String,
    /// The prefix of every key (the real server's layout puts its files under `app/`).
    pub prefix: String,
    /// An S3-compatible server's URL (MinIO, Garage, moto, …); AWS when `None`.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub session_token: Option<String>,
    /// Path-style addressing (`endpoint/bucket/key`), which most self-hosted servers need;
    /// virtual-hosted style (`bucket.endpoint/key`) otherwise.
    pub path_style: bool,
}

impl std::fmt::Debug for S3Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let set = |v: &Option<String>| if v.is_some() { "(set)" } else { "(unset)" };
        f.debug_struct("S3Settings")
            .field("bucket", &self.bucket)
            .field("prefix", &self.prefix)
            .field("endpoint", &self.endpoint)
            .field("region", &self.region)
            .field("access_key_id", &set(&self.access_key_id))
            .field("secret_access_key", &set(&self.secret_access_key))
            .field("session_token", &set(&self.session_token))
            .field("path_style", &self.path_style)
            .finish()
    }
}

impl S3Settings {
    pub(crate) fn build(&self) -> object_store::Result<AmazonS3> {
        // The environment first (AWS_ACCESS_KEY_ID, …), then what the configuration says.
        let mut builder = AmazonS3Builder::from_env()
            .with_bucket_name(&self.bucket)
            .with_virtual_hosted_style_request(!self.path_style);
        if !self.region.is_empty() {
            builder = builder.with_region(&self.region);
        }
        if let Some(endpoint) = self.endpoint.as_deref().filter(|e| !e.is_empty()) {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        if let Some(id) = &self.access_key_id {
            builder = builder.with_access_key_id(id);
        }
        if let Some(secret) = &self.secret_access_key {
            builder = builder.with_secret_access_key(secret);
        }
        if let Some(token) = &self.session_token {
            builder = builder.with_token(token);
        }
        builder.build()
    }

    pub(crate) fn prefix_path(&self) -> ObjectPath {
        self.prefix
            .split('/')
            .filter(|p| !p.is_empty())
            .fold(ObjectPath::default(), |path, part| path.join(part))
    }

    pub(crate) fn describe(&self) -> String {
        let prefix = self.prefix_path();
        let at = self
            .endpoint
            .as_deref()
            .map(|e| format!(" at {e}"))
            .unwrap_or_default();
        if prefix.as_ref().is_empty() {
            format!("s3://{}{at}", self.bucket)
        } else {
            format!("s3://{}/{prefix}{at}", self.bucket)
        }
    }
}
