//! TLS from the origin to PostgreSQL.
//!
//! The driver decides *whether* to use TLS from the URL's `sslmode`
//! (`disable`: never; `prefer`, its default: when the server offers it;
//! `require`: always, or the connection fails). This module decides *how*:
//! rustls (pure Rust, `ring` for the cryptography, so a fresh machine needs
//! no OpenSSL headers and no C toolchain beyond what `ring` brings), and
//! whenever TLS is used the server's certificate chain and host name are
//! verified — libpq's `verify-full`, never libpq's `require`, which accepts
//! any certificate and so stops only a passive eavesdropper.
//!
//! Trusted roots: the CA file the operator names (`--db-ca`), or else
//! Mozilla's public roots compiled in (`webpki-roots`). Compiled in rather
//! than read from the platform because the origin then trusts the same
//! roots on every machine, in a minimal container without
//! `ca-certificates` too, and starts without reading system files; most
//! managed PostgreSQL services sign with their own CA anyway, which no
//! platform store holds, so `--db-ca` is the usual case. A CA file
//! *replaces* the public roots (libpq's `sslrootcert` does the same): the
//! origin then trusts only the CA that signs its database.

use std::borrow::Cow;
use std::net::IpAddr;
use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{CertificateError, ClientConfig, RootCertStore};
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres_rustls::MakeRustlsConnect;

/// The TLS connector every connection of the pool uses: rustls with the
/// `ring` provider, verifying against [`roots`]. Errors are messages for
/// the operator naming the CA file.
pub(crate) fn connector(ca: Option<&Path>) -> Result<MakeRustlsConnect, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("cannot set up TLS: {e}"))?
        .with_root_certificates(roots(ca)?)
        .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// The CAs the server's certificate must chain to: every certificate of
/// the PEM file `ca`, or Mozilla's public roots when there is none.
pub(crate) fn roots(ca: Option<&Path>) -> Result<RootCertStore, String> {
    let Some(path) = ca else {
        return Ok(RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() });
    };
    let shown = path.display();
    let pem = std::fs::read(path).map_err(|e| format!("cannot read the database CA file {shown} (--db-ca): {e}"))?;
    let mut roots = RootCertStore::empty();
    for (n, cert) in CertificateDer::pem_slice_iter(&pem).enumerate() {
        let n = n + 1;
        let cert =
            cert.map_err(|e| format!("database CA file {shown} (--db-ca): certificate {n} is not valid PEM: {e}"))?;
        roots.add(cert).map_err(|e| {
            format!("database CA file {shown} (--db-ca): certificate {n} is not a usable CA certificate: {e}")
        })?;
    }
    if roots.is_empty() {
        return Err(format!(
            "database CA file {shown} (--db-ca) holds no PEM certificate (-----BEGIN CERTIFICATE-----)"
        ));
    }
    Ok(roots)
}

/// `url` as the driver takes it: libpq's `sslmode=verify-full` and
/// `verify-ca`, which the driver does not know, become `require` — which
/// here verifies the chain and the host name, as `verify-full` (and more
/// than `verify-ca`, which skips the name).
pub(crate) fn driver_url(url: &str) -> Cow<'_, str> {
    let Some((base, query)) = url.split_once('?') else { return Cow::Borrowed(url) };
    let verify = |param: &str| matches!(param, "sslmode=verify-full" | "sslmode=verify-ca");
    if !query.split('&').any(verify) {
        return Cow::Borrowed(url);
    }
    let query: Vec<&str> =
        query.split('&').map(|param| if verify(param) { "sslmode=require" } else { param }).collect();
    Cow::Owned(format!("{base}?{}", query.join("&")))
}

/// What to do instead of a libpq TLS option the driver refuses in the URL.
pub(crate) fn url_hint(parse_error: &str) -> Option<&'static str> {
    if parse_error.contains("`sslrootcert`") {
        Some("give the CA file with --db-ca FILE (ORIGIN_DB_CA) instead of sslrootcert")
    } else if parse_error.contains("`sslcert`") || parse_error.contains("`sslkey`") {
        Some("client certificates are not supported")
    } else {
        None
    }
}

/// The startup warning for a connection that may cross a network
/// unencrypted: a host other than loopback or a Unix socket, with
/// `sslmode=disable` (plain, always) or `prefer` (plain whenever the server
/// — or anyone on the path — declines TLS). `None` when every host is
/// local or TLS is required. Names hosts only, never the URL's password.
pub(crate) fn plain_text_warning(config: &tokio_postgres::Config) -> Option<String> {
    let remote = remote_hosts(config);
    if remote.is_empty() {
        return None;
    }
    let hosts = remote.join(", ");
    match config.get_ssl_mode() {
        SslMode::Disable => Some(format!(
            "sslmode=disable: the connection to {hosts} is NOT encrypted (the password and every query cross \
             the network in clear text); use sslmode=require"
        )),
        SslMode::Prefer => Some(format!(
            "the connection to {hosts} may be unencrypted: sslmode=prefer (the default when the URL sets none) \
             uses TLS only when the server offers it, and anyone on the path can make it not; set \
             sslmode=require in the URL"
        )),
        _ => None,
    }
}

/// The hosts of the URL that a connection reaches across a network: all
/// but loopback and Unix sockets.
pub(crate) fn remote_hosts(config: &tokio_postgres::Config) -> Vec<String> {
    let (hosts, hostaddrs) = (config.get_hosts(), config.get_hostaddrs());
    let mut remote: Vec<String> = hosts
        .iter()
        .enumerate()
        .filter_map(|(i, host)| match host {
            Host::Tcp(name) if !is_loopback(name, hostaddrs.get(i)) => Some(name.clone()),
            _ => None,
        })
        .collect();
    // Addresses given without a host name (`?hostaddr=IP` alone).
    remote.extend(hostaddrs.iter().skip(hosts.len()).filter(|addr| !addr.is_loopback()).map(IpAddr::to_string));
    remote
}

/// Whether a connection to `name` (or to `hostaddr`, which the driver
/// connects to instead when the URL gives one) stays on this machine.
/// Names are not resolved: only `localhost` and loopback addresses count.
fn is_loopback(name: &str, hostaddr: Option<&IpAddr>) -> bool {
    match hostaddr {
        Some(addr) => addr.is_loopback(),
        None => {
            let bare = name.trim_start_matches('[').trim_end_matches(']');
            bare.eq_ignore_ascii_case("localhost") || bare.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
        }
    }
}

/// What the operator can do about a failure to connect, when it is about
/// TLS: found in the error's causes (the certificate check of rustls, or
/// the driver's refusal of a server without TLS under `sslmode=require`).
/// `local`: every host is on this machine (where plain text crosses no
/// network, so `sslmode=disable` is a fair way out too).
pub(crate) fn hint(error: &(dyn std::error::Error + 'static), ca: Option<&Path>, local: bool) -> Option<String> {
    let mut cause = Some(error);
    while let Some(error) = cause {
        let rustls = error
            .downcast_ref::<rustls::Error>()
            .or_else(|| error.downcast_ref::<std::io::Error>()?.get_ref()?.downcast_ref::<rustls::Error>());
        if let Some(rustls::Error::InvalidCertificate(problem)) = rustls {
            let hint = certificate_hint(problem, ca);
            return Some(if local {
                format!("{hint}; or, the server being on this machine, sslmode=disable")
            } else {
                hint
            });
        }
        if error.to_string() == "server does not support TLS" {
            return Some(
                "the server does not offer TLS and the URL says sslmode=require: turn TLS on at the server \
                 (ssl = on in postgresql.conf, with a certificate)"
                    .to_string(),
            );
        }
        cause = error.source();
    }
    None
}

fn certificate_hint(problem: &CertificateError, ca: Option<&Path>) -> String {
    let trusted = match ca {
        Some(path) => format!("the CA file {}", path.display()),
        None => "the built-in public roots".to_string(),
    };
    match problem {
        CertificateError::UnknownIssuer => format!(
            "the server's certificate does not chain to {trusted}: give the CA that signed it with --db-ca FILE \
             (ORIGIN_DB_CA), e.g. the managed service's CA bundle"
        ),
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
            "the server's certificate is not issued for the host in the URL: connect with a host name the \
             certificate lists"
                .to_string()
        }
        CertificateError::Expired
        | CertificateError::ExpiredContext { .. }
        | CertificateError::NotValidYet
        | CertificateError::NotValidYetContext { .. } => {
            "the server's certificate is expired or not yet valid: renew it, or check this machine's clock".to_string()
        }
        _ => format!("the server's certificate was refused (checked against {trusted})"),
    }
}

#[cfg(test)]
mod tests {
    use super::super::error::chain;
    use super::*;

    fn config(url: &str) -> tokio_postgres::Config {
        url.parse().unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    #[test]
    fn libpq_verify_modes_become_require_and_the_rest_of_the_url_stays() {
        for (url, want) in [
            ("postgres://u:p@h/d?sslmode=verify-full", "postgres://u:p@h/d?sslmode=require"),
            (
                "postgres://u@h/d?connect_timeout=3&sslmode=verify-ca&application_name=a",
                "postgres://u@h/d?connect_timeout=3&sslmode=require&application_name=a",
            ),
            ("postgres://u@h/d?sslmode=disable", "postgres://u@h/d?sslmode=disable"),
            ("postgres://u@h/verify-full", "postgres://u@h/verify-full"),
        ] {
            assert_eq!(driver_url(url), want);
            assert_eq!(config(&driver_url(url)).get_ssl_mode() == SslMode::Require, want.contains("require"), "{url}");
        }
    }

    #[test]
    fn libpq_tls_options_the_driver_refuses_are_explained() {
        for (option, hint) in [("sslrootcert", "--db-ca"), ("sslcert", "not supported"), ("sslkey", "not supported")] {
            let url = format!("postgres://u@h/d?{option}=/etc/x.pem");
            let error = url.parse::<tokio_postgres::Config>().err().map(|e| chain(&e)).unwrap_or_default();
            assert!(url_hint(&error).is_some_and(|h| h.contains(hint)), "{option}: {error}");
        }
        assert_eq!(url_hint("invalid value for option `port`"), None);
    }

    #[test]
    fn a_remote_host_without_required_tls_gets_a_warning_naming_it() {
        let warning = plain_text_warning(&config("postgres://u:s3cret@db.internal/d")).unwrap_or_default();
        assert!(warning.contains("db.internal") && warning.contains("sslmode=prefer"), "{warning}");
        let warning = plain_text_warning(&config("postgres://u:s3cret@10.0.0.7/d?sslmode=disable")).unwrap_or_default();
        assert!(warning.contains("10.0.0.7") && warning.contains("NOT encrypted"), "{warning}");
        assert!(!warning.contains("s3cret"));
        let warning = plain_text_warning(&config("postgres://u@localhost/d?hostaddr=192.0.2.1&sslmode=prefer"))
            .unwrap_or_default();
        assert!(warning.contains("localhost"), "hostaddr is where it connects: {warning}");
        let warning = plain_text_warning(&config("postgres://u@/d?hostaddr=192.0.2.1")).unwrap_or_default();
        assert!(warning.contains("192.0.2.1"), "an address without a host name: {warning}");
    }

    #[test]
    fn loopback_unix_sockets_and_required_tls_get_no_warning() {
        for url in [
            "postgres://u@127.0.0.1:5432/d",
            "postgres://u@localhost/d?sslmode=disable",
            "postgres://u@[::1]:5432/d",
            "postgres://u@%2Fvar%2Frun%2Fpostgresql/d",
            "postgres://u@db.internal/d?sslmode=require",
            "postgres://u@db.internal/d?hostaddr=127.0.0.1",
            "postgres://u@/d?hostaddr=127.0.0.1",
        ] {
            assert_eq!(plain_text_warning(&config(url)), None, "{url}");
        }
    }

    #[test]
    fn a_ca_file_that_is_missing_or_holds_no_certificate_is_refused_naming_the_file() {
        let dir = std::env::temp_dir().join(format!("origin-tls-unit-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let missing = dir.join("missing.pem");
        let err = roots(Some(&missing)).err().unwrap_or_default();
        assert!(err.contains("cannot read") && err.contains("missing.pem"), "{err}");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").expect("write");
        let err = roots(Some(&empty)).err().unwrap_or_default();
        assert!(err.contains("no PEM certificate") && err.contains("empty.pem"), "{err}");
        let garbage = dir.join("garbage.pem");
        std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").expect("write");
        let err = roots(Some(&garbage)).err().unwrap_or_default();
        assert!(err.contains("certificate 1") && err.contains("garbage.pem"), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
        assert!(roots(None).is_ok_and(|r| r.len() > 50), "Mozilla's roots without a CA file");
    }

    #[test]
    fn certificate_failures_are_explained_through_the_io_error_that_carries_them() {
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(CertificateError::UnknownIssuer),
        );
        let remote = hint(&io, Some(Path::new("/etc/db-ca.pem")), false).unwrap_or_default();
        assert!(remote.contains("/etc/db-ca.pem") && remote.contains("--db-ca"), "{remote}");
        assert!(!remote.contains("sslmode=disable"), "never suggested across a network: {remote}");
        let local = hint(&io, None, true).unwrap_or_default();
        assert!(local.contains("--db-ca") && local.contains("sslmode=disable"), "{local}");
        let other = std::io::Error::other("connection refused");
        assert_eq!(super::hint(&other, None, true), None);
    }
}
