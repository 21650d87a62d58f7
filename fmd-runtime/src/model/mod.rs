//! Plain data that flows from the macros to the store; imports nothing above it.
//!
//! - [`function`]: the compile-time descriptor of each annotated function and its registry.
//! - [`event`]: what the request path hands to the writer (requests, errors, samples).
//! - [`counted`]: requests whose rows were dropped (queue full) but which still count in
//!   the rollups.
//! - [`link`]: a request's link to the tasks that carry its context, for what they record
//!   during and after it.
//! - [`printed`]: a backtrace known only as printed text, read into frames.
//! - [`call_tree`]: a request's call tree as the engines store it (level 3).

pub mod call_tree;
pub mod counted;
pub mod event;
pub mod function;
pub mod link;
pub mod printed;
