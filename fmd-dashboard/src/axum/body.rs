//! The response body of a request whose record waits for its body.
//!
//! The layer stores most requests when the response head is ready. Two kinds wait for the
//! body: a 4xx answer whose text says why (an extractor's rejection: "Failed to parse the
//! request body as JSON: .."), whose first [`MAX_ANSWER`] bytes become the client error's
//! message; and a body of unknown length (a stream), whose request lasts until its last
//! byte. The request is stored when the body ends, fails, or is dropped (the client went
//! away): whichever comes first.

use super::memo::{RouteMemo, end};
use axum::body::{Body, Bytes, HttpBody};
use fmd_runtime::request::{self, MAX_ANSWER, RequestCtx};
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// A response body that stores its request when it ends.
    pub(super) struct RecordedBody {
        #[pin]
        inner: Body,
        ctx: Option<Box<RequestCtx>>,
        status: u16,
        // The answer's first bytes, kept when its text is wanted.
        text: Option<Vec<u8>>,
        memo: Option<Arc<RouteMemo>>,
        slot: usize,
    }

    impl PinnedDrop for RecordedBody {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            finish(this.ctx, this.text, *this.status, this.memo.as_deref(), *this.slot);
        }
    }
}

impl RecordedBody {
    /// Wraps `inner`; `keep_text`: collect its first bytes as the answer's text.
    pub(super) fn new(
        inner: Body,
        ctx: Box<RequestCtx>,
        status: u16,
        keep_text: bool,
        memo: Option<Arc<RouteMemo>>,
        slot: usize,
    ) -> Self {
        RecordedBody {
            inner,
            ctx: Some(ctx),
            status,
            text: keep_text.then(Vec::new),
            memo,
            slot,
        }
    }
}

/// Stores the request once (later calls find no request left).
fn finish(
    ctx: &mut Option<Box<RequestCtx>>,
    text: &mut Option<Vec<u8>>,
    status: u16,
    memo: Option<&RouteMemo>,
    slot: usize,
) {
    let Some(mut ctx) = ctx.take() else { return };
    if let Some(bytes) = text.take() {
        ctx.answer = Some(String::from_utf8_lossy(&bytes).into_owned());
    }
    end(ctx, Some(status), false, memo, slot);
}

impl HttpBody for RecordedBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let this = self.project();
        // The body's code (a stream) runs inside the request, as the handler did.
        let polled = {
            let _entered = request::enter(this.ctx);
            this.inner.poll_frame(cx)
        };
        match &polled {
            Poll::Pending => {}
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(text), Some(data)) = (this.text.as_mut(), frame.data_ref()) {
                    let room = MAX_ANSWER.saturating_sub(text.len());
                    text.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => {
                finish(
                    this.ctx,
                    this.text,
                    *this.status,
                    this.memo.as_deref(),
                    *this.slot,
                );
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
