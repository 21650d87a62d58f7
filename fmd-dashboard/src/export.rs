//! CSV as the dashboard's downloads and `fmd export` write it: a header line, then one
//! RFC 4180 line per row, times as RFC 3339 in UTC (spreadsheets and scripts read them
//! without knowing the viewer's zone).
//!
//! A field a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or carriage return
//! first, and not a number) is quoted with a leading `'`, so a hostile route or user name
//! in the data cannot become a formula in the sheet of whoever opens the download.

use std::io::Write;

use fmd_runtime::store::read::{FailedRequest, IssueSummary, RequestRow};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Unix milliseconds as RFC 3339 in UTC (`2026-12-02T09:30:00.125Z`); the number itself
/// when out of range.
pub fn rfc3339(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_else(|| ms.to_string())
}

/// One CSV field: quoted when it holds a comma, quote or line break, and defused when a
/// spreadsheet would take it for a formula.
pub fn write_field(out: &mut impl Write, field: &str) -> std::io::Result<()> {
    let formula =
        field.starts_with(['=', '+', '-', '@', '\t', '\r']) && field.parse::<f64>().is_err();
    let needs_quotes = formula || field.contains([',', '"', '\n', '\r']);
    if !needs_quotes {
        return out.write_all(field.as_bytes());
    }
    out.write_all(b"\"")?;
    if formula {
        out.write_all(b"'")?;
    }
    out.write_all(field.replace('"', "\"\"").as_bytes())?;
    out.write_all(b"\"")
}

/// One CSV line of `fields`.
pub fn write_line<S: AsRef<str>>(out: &mut impl Write, fields: &[S]) -> std::io::Result<()> {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_field(out, field.as_ref())?;
    }
    out.write_all(b"\n")
}

/// The columns of the request log ([`request_fields`]).
pub const REQUEST_COLUMNS: [&str; 13] = [
    "id",
    "time",
    "endpoint_id",
    "endpoint",
    "route",
    "method",
    "duration_us",
    "status",
    "cancelled",
    "version",
    "instance",
    "ip",
    "group_by",
];

/// A stored request's fields, in the order of [`REQUEST_COLUMNS`].
pub fn request_fields(r: &RequestRow) -> [String; 13] {
    [
        r.id.to_string(),
        rfc3339(r.time),
        r.endpoint_id.to_string(),
        r.endpoint.clone(),
        r.route.clone(),
        r.method.clone(),
        r.duration_us.to_string(),
        r.status.map(|s| s.to_string()).unwrap_or_default(),
        r.cancelled.to_string(),
        r.version.clone(),
        r.instance.clone(),
        r.ip.clone().unwrap_or_default(),
        r.group_by.clone().unwrap_or_default(),
    ]
}

/// The columns of the failed requests list ([`failed_fields`]).
pub const FAILED_COLUMNS: [&str; 8] = [
    "id",
    "time",
    "method",
    "route",
    "status",
    "cancelled",
    "duration_us",
    "exception_group",
];

/// A failed request's fields, in the order of [`FAILED_COLUMNS`].
pub fn failed_fields(r: &FailedRequest) -> [String; 8] {
    [
        r.id.to_string(),
        rfc3339(r.time),
        r.method.clone(),
        r.route.clone(),
        r.status.map(|s| s.to_string()).unwrap_or_default(),
        r.cancelled.to_string(),
        r.duration_us.to_string(),
        r.group_id.map(|g| g.to_string()).unwrap_or_default(),
    ]
}

/// The columns of the issue list ([`issue_fields`]).
pub const ISSUE_COLUMNS: [&str; 12] = [
    "id",
    "status",
    "type_name",
    "message",
    "count",
    "first_seen",
    "last_seen",
    "first_version",
    "last_version",
    "variants",
    "resolved_version",
    "client_error",
];

/// An issue's fields, in the order of [`ISSUE_COLUMNS`].
pub fn issue_fields(i: &IssueSummary) -> [String; 12] {
    [
        i.id.to_string(),
        i.status.as_str().to_owned(),
        i.type_name.clone(),
        i.message.clone(),
        i.count.to_string(),
        rfc3339(i.first_seen),
        rfc3339(i.last_seen),
        i.first_version.clone().unwrap_or_default(),
        i.last_version.clone().unwrap_or_default(),
        i.variant_count.to_string(),
        i.resolved_version.clone().unwrap_or_default(),
        i.client.to_string(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(s: &str) -> String {
        let mut out = Vec::new();
        write_field(&mut out, s).expect("writes to a Vec");
        String::from_utf8(out).expect("UTF-8")
    }

    #[test]
    fn quoting_and_formulas() {
        assert_eq!(field("plain"), "plain");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=cmd()"), "\"'=cmd()\"");
        assert_eq!(field("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(field("-12"), "-12");
        assert_eq!(field("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_700_000_000_125), "2023-11-14T22:13:20.125Z");
    }
}
