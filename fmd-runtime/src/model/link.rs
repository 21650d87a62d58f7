//! A request's link to the tasks it handed its context to (`in_current_request`).
//!
//! The request and its tasks share one [`Link`] ([`RequestLink`](super::event::RequestLink)
//! holds the request's error records; the link is generic over them so that it needs
//! nothing from the events it sits in). While the request runs, what a task
//! records waits in the link and joins the request when it ends; once the request is
//! queued, what a task records is a [`LateError`](super::event::LateError) of its own that
//! names the link, and the writer finds the stored request's row through it (the writer
//! notes the row when it stores the request, which the queue's order puts first).
//!
//! Between the request's end and its being queued (a few instructions on the request's
//! thread) a task's record waits too, and is queued right after the request, so a late
//! record never overtakes its request.

use parking_lot::Mutex;
use std::borrow::Cow;
use std::sync::atomic::{AtomicI64, Ordering};

/// Most records waiting in one link; past it further ones are dropped (bounded memory).
pub const MAX_WAITING: usize = 64;

/// Shared by a request and the tasks carrying its context; `R` is what they record.
#[derive(Debug)]
pub struct Link<R> {
    state: Mutex<State<R>>,
    /// The stored request's row id, 0 while unknown (not stored yet, or never: level 0, a
    /// full queue).
    row: AtomicI64,
}

#[derive(Debug)]
struct State<R> {
    phase: Phase,
    waiting: Vec<R>,
    endpoint: Cow<'static, str>,
}

impl<R> Default for Link<R> {
    fn default() -> Self {
        Link {
            state: Mutex::new(State {
                phase: Phase::Open,
                waiting: Vec::new(),
                endpoint: Cow::Borrowed(""),
            }),
            row: AtomicI64::new(0),
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// The request runs: records join it.
    #[default]
    Open,
    /// The request ended and is being queued: records wait to be queued right after it.
    Closing,
    /// The request is queued: records go on their own.
    Queued,
}

impl<R> Link<R> {
    /// Hands a task's records to the request. Returns them back, with the request's
    /// endpoint, when the request is already queued: the caller then queues them as late
    /// records.
    pub fn offer(&self, mut records: Vec<R>) -> Option<(Cow<'static, str>, Vec<R>)> {
        let mut state = self.state.lock();
        if state.phase == Phase::Queued {
            return Some((state.endpoint.clone(), records));
        }
        let room = MAX_WAITING.saturating_sub(state.waiting.len());
        records.truncate(room);
        state.waiting.append(&mut records);
        None
    }

    /// The request ends on `endpoint`: returns what its tasks recorded so far.
    pub fn close(&self, endpoint: Cow<'static, str>) -> Vec<R> {
        let mut state = self.state.lock();
        state.phase = Phase::Closing;
        state.endpoint = endpoint;
        std::mem::take(&mut state.waiting)
    }

    /// The request is queued: returns, with its endpoint, what its tasks recorded since it
    /// ended (to be queued after it); from now on they queue their records themselves.
    pub fn queued(&self) -> (Cow<'static, str>, Vec<R>) {
        let mut state = self.state.lock();
        state.phase = Phase::Queued;
        (state.endpoint.clone(), std::mem::take(&mut state.waiting))
    }

    /// Notes the row the writer stored the request as.
    pub fn set_row(&self, id: i64) {
        self.row.store(id, Ordering::Relaxed);
    }

    /// The stored request's row id, if it was stored.
    pub fn row(&self) -> Option<i64> {
        Some(self.row.load(Ordering::Relaxed)).filter(|&id| id != 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(message: &'static str) -> &'static str {
        message
    }

    #[test]
    fn records_join_the_request_wait_while_it_is_queued_then_go_alone() {
        let link = Link::default();
        assert!(link.offer(vec![record("during")]).is_none());
        let joined = link.close(Cow::Borrowed("app::handler"));
        assert_eq!(joined.len(), 1);
        assert!(link.offer(vec![record("while queued")]).is_none());
        let (endpoint, after) = link.queued();
        assert_eq!((&*endpoint, after.len()), ("app::handler", 1));
        let (endpoint, late) = link.offer(vec![record("late")]).expect("late");
        assert_eq!((&*endpoint, late[0]), ("app::handler", "late"));
        assert_eq!(link.row(), None);
        link.set_row(42);
        assert_eq!(link.row(), Some(42));
    }

    #[test]
    fn waiting_records_are_bounded() {
        let link = Link::default();
        for _ in 0..3 {
            let _ = link.offer((0..MAX_WAITING).map(|_| record("x")).collect());
        }
        assert_eq!(link.close(Cow::Borrowed("e")).len(), MAX_WAITING);
    }
}
