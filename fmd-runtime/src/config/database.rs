//! Where fmd stores its data: a SQLite path or a PostgreSQL URL, never shown with its
//! password.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where fmd stores its data: the engine and its address.
///
/// `postgres://` and `postgresql://` URLs choose PostgreSQL (cargo feature `postgres`);
/// anything else is the path of a SQLite file. [`Display`](fmt::Display) and
/// [`Debug`](fmt::Debug) never show a URL's password.
///
/// ```
/// use fmd_runtime::config::Database;
///
/// let db = Database::parse("postgres://fmd:secret@127.0.0.1:5432/fmd");
/// assert!(matches!(db, Database::Postgres(_)));
/// assert_eq!(db.to_string(), "postgres://fmd:***@127.0.0.1:5432/fmd");
/// assert_eq!(Database::parse("data/fmd.db"), Database::Sqlite("data/fmd.db".into()));
/// ```
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file, created if missing.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user:password@host:port/dbname?...`).
    Postgres(String),
}

impl Database {
    /// Reads a `FMD_DATABASE` value: a `postgres://` URL or a file path.
    pub fn parse(value: &str) -> Database {
        let lower = value.trim_start().to_ascii_lowercase();
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            Database::Postgres(value.trim().to_owned())
        } else {
            Database::Sqlite(PathBuf::from(value))
        }
    }

    /// The SQLite file, if this is one.
    pub fn sqlite_path(&self) -> Option<&Path> {
        match self {
            Database::Sqlite(p) => Some(p),
            Database::Postgres(_) => None,
        }
    }

    /// Something to print (the password of a URL replaced by `***`).
    pub fn display(&self) -> impl fmt::Display + '_ {
        self
    }
}

impl Default for Database {
    fn default() -> Self {
        Database::Sqlite(PathBuf::from("fmd.db"))
    }
}

/// `url` with the password of its user-info part and any `password=` or `sslpassword=`
/// parameter hidden (the TLS parameters `sslmode` and `sslrootcert` are shown).
pub(crate) fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let params: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _))
                        if k.eq_ignore_ascii_case("password")
                            || k.eq_ignore_ascii_case("sslpassword") =>
                    {
                        format!("{k}=***")
                    }
                    _ => kv.to_owned(),
                })
                .collect();
            format!("{path}?{}", params.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

impl fmt::Display for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(p) => write!(f, "{}", p.display()),
            Database::Postgres(url) => f.write_str(&redact_url(url)),
        }
    }
}

impl fmt::Debug for Database {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::Sqlite(p) => f.debug_tuple("Sqlite").field(p).finish(),
            Database::Postgres(_) => f
                .debug_tuple("Postgres")
                .field(&format_args!("{self}"))
                .finish(),
        }
    }
}

impl From<PathBuf> for Database {
    fn from(path: PathBuf) -> Self {
        Database::Sqlite(path)
    }
}

impl From<&Path> for Database {
    fn from(path: &Path) -> Self {
        Database::Sqlite(path.to_owned())
    }
}

impl From<&PathBuf> for Database {
    fn from(path: &PathBuf) -> Self {
        Database::Sqlite(path.clone())
    }
}

impl From<&str> for Database {
    /// Like [`Database::parse`].
    fn from(value: &str) -> Self {
        Database::parse(value)
    }
}

impl From<String> for Database {
    /// Like [`Database::parse`].
    fn from(value: String) -> Self {
        Database::parse(&value)
    }
}

#[cfg(test)]
mod tests {
    use super::Database;

    #[test]
    fn tls_urls_show_their_tls_parameters_and_never_a_password() {
        let db = Database::parse(
            "postgres://fmd:s3cret@db.internal:5432/fmd?sslmode=verify-full\
             &sslrootcert=/etc/fmd/ca.pem&sslpassword=k3y&password=pw2",
        );
        let shown = db.to_string();
        assert_eq!(
            shown,
            "postgres://fmd:***@db.internal:5432/fmd?sslmode=verify-full\
             &sslrootcert=/etc/fmd/ca.pem&sslpassword=***&password=***"
        );
        let debug = format!("{db:?}");
        for secret in ["s3cret", "k3y", "pw2"] {
            assert!(
                !shown.contains(secret) && !debug.contains(secret),
                "{debug}"
            );
        }
    }
}
