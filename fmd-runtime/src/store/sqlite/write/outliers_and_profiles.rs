//! Level 2 outliers and level 3 call trees of stored requests.

use super::Writer;
use crate::model::call_tree;
use crate::model::event::{OutlierEvent, ProfileEvent};
use crate::store::CUT_NODE;
use rusqlite::params;

impl Writer<'_> {
    pub(super) fn outlier(
        &mut self,
        request_id: i64,
        endpoint: i64,
        time_ms: i64,
        o: &OutlierEvent,
    ) -> rusqlite::Result<()> {
        let stack = if o.stack.is_empty() {
            None
        } else {
            Some(self.snapshot(&o.stack, 0)?)
        };
        let headers = serde_json::to_string(&o.headers).unwrap_or_else(|_| "[]".to_owned());
        self.tx
            .prepare_cached(
                "INSERT INTO outlier(request_id, endpoint_id, time, url, headers, typical_us,
                     threshold_us, cpu_percent, memory_bytes, stack_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                request_id,
                endpoint,
                time_ms,
                o.url,
                headers,
                o.typical_us as i64,
                o.threshold_us.min(i64::MAX as u64) as i64,
                o.cpu_percent.filter(|c| c.is_finite()),
                o.memory_bytes.map(|m| m.min(i64::MAX as u64) as i64),
                stack,
            ])?;
        Ok(())
    }

    pub(super) fn profile(
        &mut self,
        request_id: i64,
        endpoint: i64,
        p: &ProfileEvent,
    ) -> rusqlite::Result<()> {
        let tree = call_tree::pre_order(p);
        for node in &tree {
            let call = &p.calls[node.call];
            let location = self.app_location(call.info)?;
            self.node(
                request_id,
                endpoint,
                [node.position.into(), node.depth.into(), location],
                node.parent.map(i64::from),
                (call.calls, node.total_us, node.self_us),
            )?;
        }
        if p.cut > 0 {
            // One last root stands for what was left out, its `calls` the number of calls.
            let location = self.other_location(CUT_NODE, "")?;
            let position = tree.len() as i64;
            self.node(
                request_id,
                endpoint,
                [position, 0, location],
                None,
                (p.cut, 0, 0),
            )?;
        }
        Ok(())
    }

    /// One `profile_node` row: `[position, depth, location]`, `(calls, total, self)`.
    fn node(
        &mut self,
        request_id: i64,
        endpoint: i64,
        [position, depth, location]: [i64; 3],
        parent: Option<i64>,
        (calls, total_us, self_us): (u32, u64, u64),
    ) -> rusqlite::Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO profile_node(request_id, endpoint_id, position, parent, depth,
                     location_id, calls, total_us, self_us)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                request_id,
                endpoint,
                position,
                parent,
                depth,
                location,
                calls,
                total_us.min(i64::MAX as u64) as i64,
                self_us.min(i64::MAX as u64) as i64,
            ])?;
        Ok(())
    }
}
