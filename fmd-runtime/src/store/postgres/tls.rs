//! TLS for the PostgreSQL connections: the libpq parameters `sslmode` and `sslrootcert` of
//! a `postgres://` URL, read here because the driver knows only `disable`, `prefer` and
//! `require`, and never verifies a certificate by itself.
//!
//! | `sslmode` | encrypted | certificate checked |
//! | --- | --- | --- |
//! | `disable` | never | — |
//! | `allow`, `prefer` (the default) | when the server offers it and the handshake works | no |
//! | `require` | always, or the connection fails | no (as `verify-ca` with `sslrootcert`) |
//! | `verify-ca` | always | signed by a trusted CA |
//! | `verify-full` | always | signed by a trusted CA and issued for the host of the URL |
//!
//! `sslrootcert=FILE` names a PEM file of the CAs to trust (then only those);
//! `sslrootcert=system` or none at all trusts the system's CAs.

use std::fmt;
use std::path::PathBuf;

use percent_encoding::percent_decode_str;

use crate::store::StoreError;

/// How much TLS a connection asks for (the `sslmode` of the URL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// Plain TCP.
    Disable,
    /// TLS when the server offers it, unverified; plain otherwise.
    Prefer,
    /// TLS or no connection; the certificate is not checked.
    Require,
    /// TLS with a certificate signed by a trusted CA.
    VerifyCa,
    /// TLS with a trusted certificate issued for the host connected to.
    VerifyFull,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Disable => "disable",
            Mode::Prefer => "prefer",
            Mode::Require => "require",
            Mode::VerifyCa => "verify-ca",
            Mode::VerifyFull => "verify-full",
        })
    }
}

/// The TLS settings of one URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tls {
    /// How much TLS is asked for.
    pub(crate) mode: Mode,
    /// The PEM file of the CAs to trust; `None` trusts the system's.
    pub(crate) root_cert: Option<PathBuf>,
}

fn invalid(message: String) -> StoreError {
    StoreError {
        message: format!("invalid PostgreSQL URL: {message}"),
        transient: false,
    }
}

/// Takes the TLS parameters off `url`: the URL left for the driver (`sslmode` set to what
/// the driver knows, `sslrootcert` removed) and the settings they asked for.
pub(crate) fn split(url: &str) -> Result<(String, Tls), StoreError> {
    let mut tls = Tls {
        mode: Mode::Prefer,
        root_cert: None,
    };
    let Some((base, query)) = url.split_once('?') else {
        return Ok((url.to_owned(), tls));
    };
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode_str(value).decode_utf8_lossy();
        match key {
            "sslmode" => {
                tls.mode = match &*value {
                    "disable" => Mode::Disable,
                    "allow" | "prefer" => Mode::Prefer,
                    "require" => Mode::Require,
                    "verify-ca" => Mode::VerifyCa,
                    "verify-full" => Mode::VerifyFull,
                    other => {
                        return Err(invalid(format!(
                            "sslmode={other} is none of disable, allow, prefer, require, \
                             verify-ca, verify-full"
                        )));
                    }
                }
            }
            "sslrootcert" if value.is_empty() => {
                return Err(invalid("sslrootcert= names no file".to_owned()));
            }
            "sslrootcert" if value == "system" => tls.root_cert = None,
            "sslrootcert" => tls.root_cert = Some(PathBuf::from(&*value)),
            _ => kept.push(pair),
        }
    }
    if tls.mode == Mode::Require && tls.root_cert.is_some() {
        // As libpq: a CA file given makes `require` check the chain.
        tls.mode = Mode::VerifyCa;
    }
    kept.push(match tls.mode {
        Mode::Disable => "sslmode=disable",
        Mode::Prefer => "sslmode=prefer",
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => "sslmode=require",
    });
    Ok((format!("{base}?{}", kept.join("&")), tls))
}

/// The connector for `tls` (not used with [`Mode::Disable`]): it reads the CA file now, so
/// a replaced file is picked up by the next connection.
pub(crate) fn connector(tls: &Tls) -> Result<postgres_native_tls::MakeTlsConnector, StoreError> {
    let fail = |message: String| StoreError {
        message: format!("TLS for PostgreSQL (sslmode={}): {message}", tls.mode),
        transient: false,
    };
    let mut builder = native_tls::TlsConnector::builder();
    match tls.mode {
        Mode::Disable | Mode::Prefer | Mode::Require => {
            builder
                .danger_accept_invalid_certs(true)
                .danger_accept_invalid_hostnames(true);
        }
        Mode::VerifyCa => {
            builder.danger_accept_invalid_hostnames(true);
        }
        Mode::VerifyFull => {}
    }
    if let Some(path) = &tls.root_cert {
        let pem = std::fs::read(path)
            .map_err(|e| fail(format!("cannot read sslrootcert {}: {e}", path.display())))?;
        let certs = native_tls::Certificate::stack_from_pem(&pem)
            .map_err(|e| fail(format!("sslrootcert {}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(fail(format!(
                "sslrootcert {} holds no PEM certificate",
                path.display()
            )));
        }
        builder.disable_built_in_roots(true);
        for cert in certs {
            builder.add_root_certificate(cert);
        }
    }
    let connector = builder
        .build()
        .map_err(|e| fail(format!("cannot set up TLS: {e}")))?;
    Ok(postgres_native_tls::MakeTlsConnector::new(connector))
}

/// Whether `e` is a failed TLS handshake (the connector's own error), not a refusal by
/// the server or a lost connection.
pub(crate) fn is_handshake_failure(e: &postgres::Error) -> bool {
    std::error::Error::source(e).is_some_and(|s| s.is::<native_tls::Error>())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode_of(url: &str) -> (String, Mode, Option<PathBuf>) {
        let (driver, tls) = split(url).expect("valid");
        (driver, tls.mode, tls.root_cert)
    }

    #[test]
    fn the_driver_gets_only_what_it_knows() {
        let (driver, mode, ca) = mode_of("postgres://u@h/db");
        assert_eq!(
            (driver.as_str(), mode, ca),
            ("postgres://u@h/db", Mode::Prefer, None)
        );
        let (driver, mode, ca) = mode_of(
            "postgres://u@h/db?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca.pem&connect_timeout=3",
        );
        assert_eq!(
            driver,
            "postgres://u@h/db?connect_timeout=3&sslmode=require"
        );
        assert_eq!(mode, Mode::VerifyFull);
        assert_eq!(ca, Some(PathBuf::from("/tmp/ca.pem")));
        assert_eq!(mode_of("postgres://h/d?sslmode=disable").1, Mode::Disable);
        assert_eq!(mode_of("postgres://h/d?sslmode=allow").1, Mode::Prefer);
        assert_eq!(mode_of("postgres://h/d?sslmode=require").1, Mode::Require);
        assert_eq!(
            mode_of("postgres://h/d?sslmode=require&sslrootcert=/ca.pem").1,
            Mode::VerifyCa
        );
        assert_eq!(
            mode_of("postgres://h/d?sslmode=verify-ca&sslrootcert=system").2,
            None
        );
    }

    #[test]
    fn unknown_modes_and_empty_files_are_refused_by_name() {
        let e = split("postgres://h/d?sslmode=verify").unwrap_err();
        assert!(
            e.message.contains("sslmode=verify is none of"),
            "{}",
            e.message
        );
        let e = split("postgres://h/d?sslrootcert=").unwrap_err();
        assert!(e.message.contains("sslrootcert"), "{}", e.message);
    }

    #[test]
    fn a_missing_ca_file_is_named() {
        let tls = Tls {
            mode: Mode::VerifyFull,
            root_cert: Some(PathBuf::from("/nonexistent/fmd-ca.pem")),
        };
        let e = connector(&tls).err().expect("no file");
        assert!(
            e.message.contains("sslmode=verify-full")
                && e.message.contains("/nonexistent/fmd-ca.pem"),
            "{}",
            e.message
        );
    }
}
