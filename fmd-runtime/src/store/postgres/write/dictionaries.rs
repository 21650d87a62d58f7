//! The ids of a request's texts in the dictionaries of schema version 10 (route key,
//! version, client address, user, instance): cached, else stored — the batch's new ones
//! first, in sorted order.

use super::Writer;
use super::trace;
use crate::model::event::{Event, UNMATCHED};
use crate::store::id_cache::{Dictionary, REQUEST_TEXT_CACHE};
use crate::store::postgres::text;
use crate::store::sql;

impl Writer<'_, '_> {
    /// The id of the route key `(route, method)`, stored if new.
    pub(super) fn route_id(&mut self, route: &str, method: &str) -> Result<i64, postgres::Error> {
        let tx = &mut *self.tx;
        self.cache.texts.route(route, method, || {
            let row = tx.query_one(sql::INTERN_ROUTE, &[&text(route), &text(method)])?;
            Ok(row.get(0))
        })
    }

    /// Stores the batch's new request texts before any request needs them, each
    /// dictionary's in sorted order: concurrent instances then lock new entries in one
    /// order and never deadlock on them.
    pub(super) fn intern_request_texts(&mut self, events: &[Event]) -> Result<(), postgres::Error> {
        let texts = &self.cache.texts;
        let mut routes: Vec<(&str, &str)> = Vec::new();
        let mut new: [Vec<&str>; 4] = Default::default();
        for (d, t) in [
            (Dictionary::Version, &self.options.version),
            (Dictionary::Instance, &self.options.instance),
        ] {
            if !texts.has(d, t) {
                new[d as usize].push(t);
            }
        }
        for event in events {
            let Event::Request(r) = event else { continue };
            if r.level == 0 {
                continue;
            }
            let route = if r.route.is_empty() {
                UNMATCHED
            } else {
                &r.route
            };
            if !texts.has_route(route, &r.method) {
                routes.push((route, &r.method));
            }
            for (d, t) in [
                (Dictionary::Address, &r.ip),
                (Dictionary::User, &r.group_by),
            ] {
                if let Some(t) = t.as_deref().filter(|t| !texts.has(d, t)) {
                    new[d as usize].push(t);
                }
            }
        }
        routes.sort_unstable();
        routes.dedup();
        for (route, method) in routes {
            self.route_id(route, method)?;
        }
        let st = self.st;
        for d in Dictionary::ALL {
            let (insert, select) = &st.dictionaries[d as usize];
            let values = std::mem::take(&mut new[d as usize]);
            trace::intern(self, insert, select, values, REQUEST_TEXT_CACHE, |c| {
                c.texts.map(d)
            })?;
        }
        Ok(())
    }

    /// The id of `text` in `dictionary`, stored if new.
    pub(super) fn text_id(
        &mut self,
        dictionary: Dictionary,
        s: &str,
    ) -> Result<i64, postgres::Error> {
        let tx = &mut *self.tx;
        self.cache.texts.id(dictionary, s, || {
            Ok(tx.query_one(dictionary.intern(), &[&text(s)])?.get(0))
        })
    }
}
