//! How long data is kept: raw request rows `FMD_RAW_RETENTION_DAYS` days (30 by default,
//! `off` keeps them forever), everything `FMD_RETENTION_WEEKS` weeks (forever by default).
//!
//! The two nest: raw retention deletes only the request rows (with their outlier and
//! call-tree rows) and keeps the rollups and the exceptions, so the overview, utilization,
//! per-version and reporting pages still answer for older spans; `FMD_RETENTION_WEEKS`
//! deletes everything older, rollups and exceptions included. A raw retention longer than
//! the full one changes nothing (the full one deletes those rows first).

use serde::Deserialize;

use super::ConfigError;

/// Days raw request rows are kept unless configured.
pub const DEFAULT_RAW_RETENTION_DAYS: u32 = 30;

/// The word that keeps raw request rows forever (`FMD_RAW_RETENTION_DAYS=off`).
pub const FOREVER: &str = "off";

/// `raw_retention_days` in `fmd.toml`: a number of days or `"off"`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RawDays {
    Days(i64),
    Text(String),
}

/// The raw retention `value` stands for: `Some(days)`, or `None` (forever) for `off`.
/// Zero is refused: it would delete every request as soon as it is stored.
pub(super) fn parse_raw_days(source: String, value: &str) -> Result<Option<u32>, ConfigError> {
    let v = value.trim();
    if v.eq_ignore_ascii_case(FOREVER) {
        return Ok(None);
    }
    match v.parse::<u32>() {
        Ok(days) if days > 0 => Ok(Some(days)),
        _ => Err(ConfigError {
            source,
            problem: format!(
                "expected a number of days (at least 1), or {FOREVER:?} to keep raw requests forever"
            ),
        }),
    }
}

impl RawDays {
    /// The raw retention this `fmd.toml` value stands for.
    pub(super) fn days(&self) -> Result<Option<u32>, ConfigError> {
        let source = "fmd.toml: raw_retention_days".to_owned();
        match self {
            RawDays::Days(n) => parse_raw_days(source, &n.to_string()),
            RawDays::Text(t) => parse_raw_days(source, t),
        }
    }
}

/// The effective raw retention in days: `raw_days`, unless the full retention of
/// `weeks` is as short or shorter (it then deletes the rows first); `None`: forever.
pub fn effective_raw_days(raw_days: Option<u32>, weeks: Option<u32>) -> Option<u32> {
    match (raw_days, weeks.map(|w| w.saturating_mul(7))) {
        (Some(raw), Some(full)) if full <= raw => None,
        (raw, _) => raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_off_and_zero() {
        let p = |v: &str| parse_raw_days("X".into(), v);
        assert_eq!(p("30").unwrap(), Some(30));
        assert_eq!(p(" 7 ").unwrap(), Some(7));
        assert_eq!(p("off").unwrap(), None);
        assert_eq!(p("OFF").unwrap(), None);
        for bad in ["0", "-3", "soon", ""] {
            let e = p(bad).unwrap_err().to_string();
            assert!(
                e.contains("\"off\" to keep raw requests forever"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn read_from_the_environment_and_fmd_toml_with_30_days_by_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fmd.toml");
        let p = path.to_str().unwrap().to_owned();
        let with = |vars: &[(&str, &str)]| {
            let vars: Vec<(String, String)> = vars
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            let p = p.clone();
            crate::Config::from_lookup(move |name| match name {
                "FMD_CONFIG" => Some(p.clone()),
                _ => vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()),
            })
        };
        std::fs::write(&path, "").unwrap();
        assert_eq!(with(&[]).unwrap().raw_retention_days, Some(30));
        std::fs::write(&path, "raw_retention_days = 14\n").unwrap();
        assert_eq!(with(&[]).unwrap().raw_retention_days, Some(14));
        std::fs::write(&path, "raw_retention_days = \"off\"\n").unwrap();
        assert_eq!(with(&[]).unwrap().raw_retention_days, None);
        // The variable wins over the file.
        let c = with(&[("FMD_RAW_RETENTION_DAYS", "90")]).unwrap();
        assert_eq!(c.raw_retention_days, Some(90));
        std::fs::write(&path, "raw_retention_days = 0\n").unwrap();
        let e = with(&[]).unwrap_err().to_string();
        assert!(e.contains("fmd.toml: raw_retention_days"), "{e}");
        std::fs::write(&path, "").unwrap();
        let e = with(&[("FMD_RAW_RETENTION_DAYS", "0")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("FMD_RAW_RETENTION_DAYS"), "{e}");
    }

    #[test]
    fn the_full_retention_wins_when_it_is_as_short() {
        assert_eq!(effective_raw_days(Some(30), None), Some(30));
        assert_eq!(effective_raw_days(Some(30), Some(5)), Some(30));
        assert_eq!(effective_raw_days(Some(30), Some(4)), None);
        assert_eq!(effective_raw_days(Some(28), Some(4)), None);
        assert_eq!(effective_raw_days(None, Some(4)), None);
    }
}
