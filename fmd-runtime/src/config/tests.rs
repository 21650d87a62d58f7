//! Tests of the configuration: defaults, variables, `fmd.toml` and their errors.

use super::*;

#[test]
fn an_empty_token_switches_its_route_off() {
    let c = with(&[("FMD_API_TOKEN", ""), ("FMD_METRICS_TOKEN", " ")]).unwrap();
    assert_eq!(c.api_token, None);
    assert_eq!(c.metrics_token, None);
    assert!(c.validate().is_ok());
}

fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Config::from_lookup(move |k| {
        vars.iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
    })
}

#[test]
fn defaults_need_nothing() {
    let c = with(&[]).unwrap();
    assert_eq!(c.level, 1);
    assert_eq!(c.database, Database::Sqlite(PathBuf::from("fmd.db")));
    assert_eq!(c.dashboard_path, "/dashboard");
    assert!(c.password.is_none());
}

#[test]
fn a_level_out_of_range_is_a_clear_error() {
    let e = with(&[("FMD_LEVEL", "7")]).unwrap_err();
    assert!(e.to_string().contains("FMD_LEVEL"), "{e}");
    assert!(e.to_string().contains("0, 1, 2 or 3"), "{e}");
    assert!(with(&[("FMD_LEVEL", "two")]).is_err());
    assert!(with(&[("FMD_STORE_SOURCE", "maybe")]).is_err());
}

#[test]
fn environment_overrides_defaults() {
    let c = with(&[
        ("FMD_LEVEL", "3"),
        ("FMD_DATABASE", "/tmp/x.db"),
        ("APP_VERSION", "2.0"),
    ])
    .unwrap();
    assert_eq!((c.level, c.version.as_str()), (3, "2.0"));
    assert_eq!(c.database, Database::Sqlite(PathBuf::from("/tmp/x.db")));
}

#[test]
fn config_file_is_read_and_unknown_keys_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fmd.toml");
    std::fs::write(&path, "level = 2\nnormalize_messages = true\n").unwrap();
    let p = path.to_str().unwrap();
    let c = with(&[("FMD_CONFIG", p)]).unwrap();
    assert_eq!(c.level, 2);
    assert!(c.normalize_messages);
    std::fs::write(&path, "api_token = \"0123456789abcdef-api\"\n").unwrap();
    assert_eq!(
        with(&[("FMD_CONFIG", p)]).unwrap().api_token.as_deref(),
        Some("0123456789abcdef-api")
    );
    std::fs::write(
        &path,
        "session_idle_minutes = 15\nsession_lifetime_hours = 0.5\n",
    )
    .unwrap();
    let sessions = with(&[("FMD_CONFIG", p)]).unwrap().sessions;
    assert_eq!(sessions.idle, Duration::from_secs(900));
    assert_eq!(sessions.lifetime, Duration::from_secs(1800));
    std::fs::write(&path, "session_idle_minutes = 0\n").unwrap();
    let e = with(&[("FMD_CONFIG", p)]).unwrap_err().to_string();
    assert!(e.contains("session_idle_minutes"), "{e}");
    std::fs::write(&path, "levle = 2\n").unwrap();
    assert!(with(&[("FMD_CONFIG", p)]).is_err());
}

#[test]
fn a_postgres_url_chooses_postgres_and_never_shows_its_password() {
    let url = "postgresql://fmd:s3cret@127.0.0.1:5433/fmd?password=s3cret&sslmode=disable";
    let db = Database::parse(url);
    assert_eq!(db, Database::Postgres(url.to_owned()));
    for shown in [db.to_string(), format!("{db:?}")] {
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("127.0.0.1:5433/fmd"), "{shown}");
    }
    let result = with(&[("FMD_DATABASE", url)]);
    if cfg!(feature = "postgres") {
        assert_eq!(result.unwrap().database, db);
    } else {
        let e = result.unwrap_err().to_string();
        assert!(e.contains("feature `postgres`"), "{e}");
        assert!(!e.contains("s3cret"), "{e}");
    }
}

#[test]
fn bearer_tokens_are_read_and_weak_ones_rejected() {
    let c = with(&[
        ("FMD_METRICS_TOKEN", "metrics-token-0123456789"),
        ("FMD_API_TOKEN", "api-token-0123456789"),
    ])
    .unwrap();
    assert_eq!(c.metrics_token.as_deref(), Some("metrics-token-0123456789"));
    assert_eq!(c.api_token.as_deref(), Some("api-token-0123456789"));
    assert!(with(&[]).unwrap().api_token.is_none(), "no token: API off");
    let e = with(&[("FMD_API_TOKEN", "short")]).unwrap_err();
    assert!(e.to_string().contains("api_token"), "{e}");
    assert!(e.to_string().contains("16 characters"), "{e}");
    let e = with(&[("FMD_METRICS_TOKEN", "has a space in it, long enough")]).unwrap_err();
    assert!(e.to_string().contains("metrics_token"), "{e}");
}

#[test]
fn a_short_first_admin_password_is_a_clear_error() {
    for short in ["", "eleven-char"] {
        let e = with(&[("FMD_PASSWORD", short)]).unwrap_err().to_string();
        assert!(e.contains("FMD_PASSWORD"), "{e}");
        assert!(e.contains("12 characters"), "{e}");
        assert!(!e.contains("eleven"), "the password is never shown: {e}");
    }
    let c = with(&[("FMD_PASSWORD", "twelve-chars")]).unwrap();
    assert_eq!(c.password.as_deref(), Some("twelve-chars"));
}
