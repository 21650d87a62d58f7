//! The response body of a request whose record waits for its body (see the crate's
//! `adapter::Pending`: a 4xx answer whose text is kept, a stream).

use crate::adapter::Pending;
use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use fmd_runtime::request;
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// The body of every response [`Monitor`](super::Monitor) passes on: the handler's
    /// body, unchanged; when the request's record waits for the body's end, it is stored
    /// then (or when the body is dropped).
    pub struct RecordedBody<B> {
        #[pin]
        inner: B,
        pending: Option<Pending>,
    }
}

impl<B> RecordedBody<B> {
    /// `inner`, passed on as it is.
    pub(super) fn plain(inner: B) -> Self {
        RecordedBody {
            inner,
            pending: None,
        }
    }

    /// `inner`, whose end finishes `pending`.
    pub(super) fn waiting(inner: B, pending: Pending) -> Self {
        RecordedBody {
            inner,
            pending: Some(pending),
        }
    }
}

impl<B: MessageBody> MessageBody for RecordedBody<B> {
    type Error = B::Error;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.project();
        let Some(pending) = this.pending.as_mut() else {
            return this.inner.poll_next(cx);
        };
        // The body's code (a stream) runs inside the request, as the handler did.
        let polled = {
            let _entered = request::enter(pending.ctx());
            this.inner.poll_next(cx)
        };
        match &polled {
            Poll::Pending => {}
            Poll::Ready(Some(Ok(data))) => pending.keep(data),
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => pending.finish(),
        }
        polled
    }
}
