//! A request whose record waits for its response body.
//!
//! Most requests are stored when the response head is ready. Two kinds wait for the
//! body: a 4xx answer whose text says why (an extractor's rejection: "Failed to parse the
//! request body as JSON: .."), whose first [`MAX_ANSWER`] bytes become the client error's
//! message; and a body of unknown length (a stream), whose request lasts until its last
//! byte. The adapter's body wrapper feeds [`Pending::keep`] each chunk and calls
//! [`Pending::finish`] when the body ends or fails; dropping it (the client went away)
//! finishes it too. The request is stored once, whichever comes first.

use super::memo::{RouteMemo, end};
use fmd_runtime::request::{MAX_ANSWER, RequestCtx};
use std::sync::Arc;

/// A finished request's record, waiting for the end of its body.
pub(crate) struct Pending {
    ctx: Option<Box<RequestCtx>>,
    status: u16,
    // The answer's first bytes, kept when its text is wanted.
    text: Option<Vec<u8>>,
    memo: Option<Arc<RouteMemo>>,
    slot: usize,
}

impl Pending {
    /// The record of `ctx`, answered with `status`; `keep_text`: collect the body's first
    /// bytes as the answer's text.
    pub(crate) fn new(
        ctx: Box<RequestCtx>,
        status: u16,
        keep_text: bool,
        memo: Option<Arc<RouteMemo>>,
        slot: usize,
    ) -> Self {
        Pending {
            ctx: Some(ctx),
            status,
            text: keep_text.then(Vec::new),
            memo,
            slot,
        }
    }

    /// The request, to make current (`fmd_runtime::request::enter`) while the body's code
    /// (a stream) runs, as the handler's did.
    pub(crate) fn ctx(&mut self) -> &mut Option<Box<RequestCtx>> {
        &mut self.ctx
    }

    /// Keeps what fits of `data` when the answer's text is wanted.
    pub(crate) fn keep(&mut self, data: &[u8]) {
        if let Some(text) = self.text.as_mut() {
            let room = MAX_ANSWER.saturating_sub(text.len());
            text.extend_from_slice(&data[..data.len().min(room)]);
        }
    }

    /// Stores the request once (later calls find no request left).
    pub(crate) fn finish(&mut self) {
        let Some(mut ctx) = self.ctx.take() else {
            return;
        };
        if let Some(bytes) = self.text.take() {
            ctx.answer = Some(String::from_utf8_lossy(&bytes).into_owned());
        }
        end(
            ctx,
            Some(self.status),
            false,
            self.memo.as_deref(),
            self.slot,
        );
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.finish();
    }
}
