//! Issues' error rates on two sides of a report (two versions or two periods): how often
//! each issue happened and how many requests it could have happened in — written once for
//! both engines over [`IssueSql`].
//!
//! An issue's requests are those of the endpoints it happened on, on either side (its
//! variants' endpoints), from the hourly rollup `request_hourly` — or from the hits per
//! endpoint the caller already read ([`IssueRates::issue_rate_counts_with_hits`], as the
//! report does from its response mixes). Its occurrences come from
//! `exception_group_version` for a version and from `exception_occurrence` for a period,
//! counted per group on the `(group_id, time)` index (a range count on the index alone,
//! where reading the period's occurrences by time would fetch every row for its group).
//! Occurrences outside a request ([`BACKGROUND`]) have no requests to divide by and are
//! left out. Retention prunes occurrences with their requests, so both counts of a period
//! shrink together.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::model::event::BACKGROUND;
use crate::store::StoreError;
use crate::store::read::issues::{IssueSql, OwnedRow, Param};
use crate::store::read::perf::{HOUR_MS, Selection};
use crate::store::rows::{self, Columns};

/// One issue's counts on both sides.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct IssueRateCounts {
    /// `issue.id`.
    pub issue_id: i64,
    /// The error's type name.
    pub type_name: String,
    /// The normalized message.
    pub message: String,
    /// Occurrences on side A.
    pub occurrences_a: u64,
    /// Requests on side A to the endpoints the issue happened on.
    pub requests_a: u64,
    /// Occurrences on side B.
    pub occurrences_b: u64,
    /// Requests on side B to the same endpoints.
    pub requests_b: u64,
}

/// The report's error-rate queries, for every engine that runs [`IssueSql`].
pub trait IssueRates {
    /// Every issue that happened on side `a` or `b` (in a request), with its occurrences
    /// and requests on each side, by issue id.
    fn issue_rate_counts(
        &mut self,
        a: &Selection,
        b: &Selection,
    ) -> Result<Vec<IssueRateCounts>, StoreError>;

    /// [`issue_rate_counts`](IssueRates::issue_rate_counts) with the requests per
    /// endpoint of each side given (`hits[0]` side `a`, `hits[1]` side `b`; an endpoint
    /// missing had none), as read from the same rollup by
    /// [`PerfStore::status_mix`](crate::store::read::PerfStore::status_mix).
    fn issue_rate_counts_with_hits(
        &mut self,
        a: &Selection,
        b: &Selection,
        hits: [&BTreeMap<i64, u64>; 2],
    ) -> Result<Vec<IssueRateCounts>, StoreError>;
}

/// Occurrences per issue and endpoint on one side: issue, type, message, endpoint, count.
fn occurrences(db: &mut impl IssueSql, side: &Selection) -> Result<Vec<OwnedRow>, StoreError> {
    const HEAD: &str = "SELECT g.issue_id, i.type_name, i.message, g.endpoint_id";
    const JOIN: &str = "JOIN exception_group g ON g.id = x.group_id
         JOIN issue i ON i.id = g.issue_id
         JOIN endpoint e ON e.id = g.endpoint_id";
    const TAIL: &str = "GROUP BY g.issue_id, i.type_name, i.message, g.endpoint_id";
    match side {
        Selection::Version(v) => db.rows(
            &format!(
                "{HEAD}, CAST(sum(x.count) AS BIGINT) FROM exception_group_version x {JOIN}
                 WHERE x.version = $1 AND e.name <> $2 {TAIL}"
            ),
            &[Param::Text(v), Param::Text(BACKGROUND)],
        ),
        // Per group, a count over the `(group_id, time)` index; groups without an
        // occurrence in the period are left out, as the version's rows leave them out.
        Selection::Period { from, to } => db.rows(
            &format!(
                "{HEAD}, CAST(sum(x.n) AS BIGINT)
                 FROM (SELECT o.id AS group_id,
                              (SELECT count(*) FROM exception_occurrence c
                               WHERE c.group_id = o.id AND c.time >= $1 AND c.time < $2) AS n
                       FROM exception_group o) x {JOIN}
                 WHERE x.n > 0 AND e.name <> $3 {TAIL}"
            ),
            &[Param::Int(*from), Param::Int(*to), Param::Text(BACKGROUND)],
        ),
    }
}

/// Requests per endpoint on one side, from the hourly rollup (a period's partial hours
/// included, as the response mix counts them).
fn requests(db: &mut impl IssueSql, side: &Selection) -> Result<BTreeMap<i64, u64>, StoreError> {
    const HEAD: &str = "SELECT endpoint_id, CAST(sum(hits) AS BIGINT) FROM request_hourly";
    let found = match side {
        Selection::Version(v) => db.rows(
            &format!("{HEAD} WHERE version = $1 GROUP BY endpoint_id"),
            &[Param::Text(v)],
        )?,
        Selection::Period { from, to } => db.rows(
            &format!("{HEAD} WHERE hour >= $1 AND hour < $2 GROUP BY endpoint_id"),
            &[
                Param::Int(from.div_euclid(HOUR_MS)),
                Param::Int((to + HOUR_MS - 1).div_euclid(HOUR_MS)),
            ],
        )?,
    };
    found
        .iter()
        .map(|r| Ok((r.int(0)?, rows::count(r.int(1)?))))
        .collect()
}

/// An issue's endpoints and its occurrences on each side, while the counts are summed.
#[derive(Default)]
struct Tally {
    type_name: String,
    message: String,
    endpoints: Vec<i64>,
    occurrences: [u64; 2],
}

impl<T: IssueSql> IssueRates for T {
    fn issue_rate_counts(
        &mut self,
        a: &Selection,
        b: &Selection,
    ) -> Result<Vec<IssueRateCounts>, StoreError> {
        let issues = tally(self, a, b)?;
        if issues.is_empty() {
            return Ok(Vec::new());
        }
        let (hits_a, hits_b) = (requests(self, a)?, requests(self, b)?);
        Ok(counts(issues, [&hits_a, &hits_b]))
    }

    fn issue_rate_counts_with_hits(
        &mut self,
        a: &Selection,
        b: &Selection,
        hits: [&BTreeMap<i64, u64>; 2],
    ) -> Result<Vec<IssueRateCounts>, StoreError> {
        Ok(counts(tally(self, a, b)?, hits))
    }
}

/// Every issue with occurrences on either side: its endpoints and its occurrences.
fn tally(
    db: &mut impl IssueSql,
    a: &Selection,
    b: &Selection,
) -> Result<BTreeMap<i64, Tally>, StoreError> {
    let mut issues: BTreeMap<i64, Tally> = BTreeMap::new();
    for (side, selection) in [a, b].into_iter().enumerate() {
        for r in occurrences(db, selection)? {
            let t = issues.entry(r.int(0)?).or_default();
            t.type_name = r.text(1)?;
            t.message = r.text(2)?;
            let endpoint = r.int(3)?;
            if !t.endpoints.contains(&endpoint) {
                t.endpoints.push(endpoint);
            }
            t.occurrences[side] += rows::count(r.int(4)?);
        }
    }
    Ok(issues)
}

/// The issues' counts, their requests summed over their endpoints' hits on each side.
fn counts(issues: BTreeMap<i64, Tally>, hits: [&BTreeMap<i64, u64>; 2]) -> Vec<IssueRateCounts> {
    let sum = |hits: &BTreeMap<i64, u64>, endpoints: &[i64]| -> u64 {
        endpoints.iter().filter_map(|e| hits.get(e)).sum()
    };
    issues
        .into_iter()
        .map(|(issue_id, t)| IssueRateCounts {
            issue_id,
            requests_a: sum(hits[0], &t.endpoints),
            requests_b: sum(hits[1], &t.endpoints),
            occurrences_a: t.occurrences[0],
            occurrences_b: t.occurrences[1],
            type_name: t.type_name,
            message: t.message,
        })
        .collect()
}
