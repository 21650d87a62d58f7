//! The bounded queue between the request path and the writer thread.
//!
//! Pushing never blocks and never allocates beyond the event itself: a full queue (or one
//! whose writer is gone) drops the event and counts it. A dropped request still reaches
//! the rollups through the fixed table of [`super::overflow`]. Full means either bound: the
//! number of events, or the bytes they hold ([`Event::weight`]) together with the
//! writer's batch in hand, so a stalled store with huge messages costs bounded memory. Only [`Queue::flush`], meant for
//! shutdown and tests, waits.

use super::state::PipelineState;
use crate::model::event::Event;
use std::sync::atomic::Ordering;
use std::sync::mpsc::{self, Receiver, SyncSender, TrySendError};
use std::time::{Duration, Instant};

/// A queue of `capacity` events: the sending side for the monitor, the receiving side for
/// the writer.
pub(crate) fn bounded(capacity: usize) -> (SyncSender<Event>, Receiver<Event>) {
    mpsc::sync_channel(capacity)
}

/// The sending side, or none when monitoring is off.
pub(crate) struct Queue {
    sender: Option<SyncSender<Event>>,
    /// Most bytes held by events not yet stored or dropped.
    budget: usize,
}

impl Queue {
    /// A queue that feeds a running writer.
    pub(crate) fn open(sender: SyncSender<Event>, budget: usize) -> Queue {
        Queue {
            sender: Some(sender),
            budget,
        }
    }

    /// No writer: every event is dropped and counted.
    pub(crate) fn closed() -> Queue {
        Queue {
            sender: None,
            budget: 0,
        }
    }

    /// Whether a writer is behind the queue.
    pub(crate) fn is_open(&self) -> bool {
        self.sender.is_some()
    }

    /// Queues `event`, or drops and counts it. Never blocks.
    #[inline]
    pub(crate) fn push(&self, event: Event, counters: &PipelineState) {
        let Some(tx) = &self.sender else {
            counters.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        };
        let weight = event.weight();
        let held = counters.held_bytes.fetch_add(weight, Ordering::Relaxed);
        if held.saturating_add(weight) > self.budget {
            overflow(&event, weight, counters);
            return;
        }
        match tx.try_send(event) {
            Ok(()) => {
                counters.queued.fetch_add(1, Ordering::Relaxed);
            }
            Err(TrySendError::Full(event) | TrySendError::Disconnected(event)) => {
                overflow(&event, weight, counters);
            }
        }
    }

    /// Waits until everything queued so far is stored, at most `timeout`. Returns whether
    /// it was.
    pub(crate) fn flush(&self, timeout: Duration) -> bool {
        let Some(tx) = &self.sender else { return false };
        let deadline = Instant::now() + timeout;
        let (ack, done) = mpsc::sync_channel(1);
        let mut event = Event::Flush(ack);
        loop {
            match tx.try_send(event) {
                Ok(()) => break,
                Err(TrySendError::Full(back)) if Instant::now() < deadline => {
                    event = back;
                    std::thread::sleep(Duration::from_millis(2));
                }
                Err(_) => return false,
            }
        }
        done.recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .is_ok()
    }
}

/// The queue did not take `event` (full, over its byte budget, or its writer gone): it is
/// dropped and counted, and a request is still counted for the rollups.
#[cold]
#[inline(never)]
fn overflow(event: &Event, weight: usize, counters: &PipelineState) {
    counters.held_bytes.fetch_sub(weight, Ordering::Relaxed);
    counters.dropped.fetch_add(1, Ordering::Relaxed);
    if let Event::Request(r) = event {
        counters.overflow.count(r);
    }
}
