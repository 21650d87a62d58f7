//! The request path: everything that runs on the host's threads, inside its requests and
//! annotated functions. No I/O, no contended lock, no symbolization: what happens here is
//! handed to the [pipeline](crate::pipeline) as one small event.
//!
//! | file | holds |
//! |---|---|
//! | `wrappers` | what the macros put around bodies: `Monitored`, `Framed`, `monitored_sync`, the frame guards, timing a call for the call tree |
//! | `ctx` | the request in flight, moved into a thread-local for each poll ([`RequestCtx`], [`enter`]) |
//! | `stack` | the logical stack of annotated frames, right across `.await` |
//! | `return_trace` | the error return trace, one hop per `?` / `Err(..)` |
//! | `error` | describing an error (message, `source()` chain) and assembling its trace |
//! | `known` | the std error types named behind a type-erasing wrapper (`anyhow::Error`) |
//! | `handled` | the backend of `capture!`: a handled error, still recorded |
//! | `panic` | the panic hook (chained in by [`crate::start`]) |
//! | `outlier` | level 2: the slow-request threshold and what is kept of a slow request |
//! | `profile` | level 3: the call tree under construction |
//! | `scrub` | secrets out of URLs and headers |
//! | `client` | the client's address, behind trusted proxies too |
//! | `hooks` | the group-by hook |
//! | `spawned` | a request's context carried into a spawned task ([`FutureExt::in_current_request`]) |
//! | `tracing_layer` | feature `tracing`: `tracing` error events as captured errors |
//!
//! Framework adapters (the axum layer) use [`RequestCtx`], [`enter`], [`ignore`] (a route
//! left out), [`with_current`] and
//! the group-by hook's [`has_group_by`] / [`group_of`]; everything else is internal.

mod client;
mod ctx;
pub(crate) mod error;
pub(crate) mod handled;
mod hooks;
mod known;
mod outlier;
pub(crate) mod panic;
mod profile;
pub(crate) mod return_trace;
pub mod scrub;
mod spawned;
pub(crate) mod stack;
#[cfg(feature = "tracing")]
pub mod tracing_layer;
pub(crate) mod wrappers;

pub(crate) use ctx::ignoring;

pub use client::{client_address, parse_trusted};
pub use ctx::{
    Entered, Ignoring, MAX_ANSWER, MAX_ERRORS, RequestCtx, enter, ignore, in_request, with_current,
};
pub use error::{MAX_MESSAGE, MAX_SOURCES, TRUNCATED, cap_message, message_of};
pub use hooks::{MAX_GROUP_BY, group_by, group_of, has_group_by};
pub use outlier::threshold_us;
pub use spawned::{FutureExt, InCurrentRequest};
pub use stack::{Frame, MAX_DEPTH, snapshot};
