//! Level 2 outliers and level 3 call trees of stored requests, held as columns until the
//! batch's requests are written.

use super::statements::Statements;
use super::{Writer, text};
use crate::model::call_tree;
use crate::model::event::{OutlierEvent, ProfileEvent};
use crate::store::CUT_NODE;
use postgres::Transaction;

fn clamp(v: u64) -> i64 {
    v.min(i64::MAX as u64) as i64
}

#[derive(Default)]
pub(super) struct OutlierRows {
    request: Vec<i64>,
    endpoint: Vec<i64>,
    time: Vec<i64>,
    url: Vec<String>,
    headers: Vec<String>,
    typical_us: Vec<i64>,
    threshold_us: Vec<i64>,
    cpu_percent: Vec<Option<f64>>,
    memory_bytes: Vec<Option<i64>>,
    stack: Vec<Option<i64>>,
}

impl OutlierRows {
    pub(super) fn insert(
        &self,
        tx: &mut Transaction<'_>,
        st: &Statements,
    ) -> Result<(), postgres::Error> {
        if self.request.is_empty() {
            return Ok(());
        }
        tx.execute(
            &st.insert_outliers,
            &[
                &self.request,
                &self.endpoint,
                &self.time,
                &self.url,
                &self.headers,
                &self.typical_us,
                &self.threshold_us,
                &self.cpu_percent,
                &self.memory_bytes,
                &self.stack,
            ],
        )?;
        Ok(())
    }
}

#[derive(Default)]
pub(super) struct ProfileRows {
    request: Vec<i64>,
    endpoint: Vec<i64>,
    position: Vec<i64>,
    parent: Vec<Option<i64>>,
    depth: Vec<i64>,
    location: Vec<i64>,
    calls: Vec<i64>,
    total_us: Vec<i64>,
    self_us: Vec<i64>,
}

impl ProfileRows {
    pub(super) fn insert(
        &self,
        tx: &mut Transaction<'_>,
        st: &Statements,
    ) -> Result<(), postgres::Error> {
        if self.request.is_empty() {
            return Ok(());
        }
        tx.execute(
            &st.insert_profile,
            &[
                &self.request,
                &self.endpoint,
                &self.position,
                &self.parent,
                &self.depth,
                &self.location,
                &self.calls,
                &self.total_us,
                &self.self_us,
            ],
        )?;
        Ok(())
    }

    /// One node: `[position, depth, location]`, `(calls, total, self)`.
    fn push(
        &mut self,
        (request, endpoint): (i64, i64),
        [position, depth, location]: [i64; 3],
        parent: Option<i64>,
        (calls, total_us, self_us): (u32, u64, u64),
    ) {
        self.request.push(request);
        self.endpoint.push(endpoint);
        self.position.push(position);
        self.parent.push(parent);
        self.depth.push(depth);
        self.location.push(location);
        self.calls.push(i64::from(calls));
        self.total_us.push(clamp(total_us));
        self.self_us.push(clamp(self_us));
    }
}

impl Writer<'_, '_> {
    pub(super) fn outlier(
        &mut self,
        request_id: i64,
        endpoint: i64,
        time_ms: i64,
        o: &OutlierEvent,
    ) -> Result<(), postgres::Error> {
        let stack = if o.stack.is_empty() {
            None
        } else {
            Some(self.snapshot(&o.stack, 0)?)
        };
        let headers = serde_json::to_string(&o.headers).unwrap_or_else(|_| "[]".to_owned());
        let rows = &mut self.rows.outliers;
        rows.request.push(request_id);
        rows.endpoint.push(endpoint);
        rows.time.push(time_ms);
        rows.url.push(text(&o.url).into_owned());
        rows.headers.push(text(&headers).into_owned());
        rows.typical_us.push(clamp(o.typical_us));
        rows.threshold_us.push(clamp(o.threshold_us));
        rows.cpu_percent
            .push(o.cpu_percent.filter(|c| c.is_finite()));
        rows.memory_bytes.push(o.memory_bytes.map(clamp));
        rows.stack.push(stack);
        Ok(())
    }

    pub(super) fn profile(
        &mut self,
        request_id: i64,
        endpoint: i64,
        p: &ProfileEvent,
    ) -> Result<(), postgres::Error> {
        let tree = call_tree::pre_order(p);
        for node in &tree {
            let call = &p.calls[node.call];
            let location = self.app_location(call.info)?;
            self.rows.profile.push(
                (request_id, endpoint),
                [node.position.into(), node.depth.into(), location],
                node.parent.map(i64::from),
                (call.calls, node.total_us, node.self_us),
            );
        }
        if p.cut > 0 {
            // One last root stands for what was left out, its `calls` the number of calls.
            let location = self.other_location(CUT_NODE, "")?;
            self.rows.profile.push(
                (request_id, endpoint),
                [tree.len() as i64, 0, location],
                None,
                (p.cut, 0, 0),
            );
        }
        Ok(())
    }
}
