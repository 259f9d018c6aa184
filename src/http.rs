//! The one HTTP client setup shared by the advisory sync and the registry clients: blocking
//! reqwest over rustls with the ring provider and the webpki roots (bare containers have no OS
//! store), gzip, a user agent naming us, and bounded timeouts.

use std::time::Duration;

/// A blocking client. `connect` bounds the connection; `idle` applies to the wait for the headers
/// and to every body read: an idle timeout, not a cap on a long but moving download.
pub fn client(connect: Duration, idle: Duration) -> Result<reqwest::blocking::Client, String> {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(tls)
        .user_agent(concat!("bundleguard/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(connect)
        .timeout(idle)
        .build()
        .map_err(|e| format!("HTTP client setup failed: {e}"))
}
