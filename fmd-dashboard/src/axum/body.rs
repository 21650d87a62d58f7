//! The response body of a request whose record waits for its body (see
//! [`Pending`](crate::adapter::Pending): a 4xx answer whose text is kept, a stream).

use crate::adapter::Pending;
use axum::body::{Body, Bytes, HttpBody};
use fmd_runtime::request;
use http_body::{Frame, SizeHint};
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// A response body that stores its request when it ends.
    pub(super) struct RecordedBody {
        #[pin]
        inner: Body,
        pending: Pending,
    }
}

impl RecordedBody {
    /// Wraps `inner`, whose end finishes `pending`.
    pub(super) fn new(inner: Body, pending: Pending) -> Self {
        RecordedBody { inner, pending }
    }
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
            let _entered = request::enter(this.pending.ctx());
            this.inner.poll_frame(cx)
        };
        match &polled {
            Poll::Pending => {}
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.pending.keep(data);
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => this.pending.finish(),
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
