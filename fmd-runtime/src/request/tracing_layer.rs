//! `fmd::tracing::layer()`: `tracing` events at `ERROR` (or a chosen level) recorded as
//! captured errors, through the same path as `capture!` (`request::handled::capture`).
//!
//! What an event becomes:
//! - message: the event's `message`, then its other fields and those of its spans as
//!   `key=value` pairs (the store has no column for context). Order is stable: the event's
//!   fields as written at the call site, then each enclosing span's, innermost first;
//! - type name: [`TYPE_NAME`] (a `&dyn Error` field does not reveal its concrete type);
//! - `source()` chain: the `error` field's `Display`, then its whole `source()` chain;
//! - trace: the event's `file:line`, named after its module when it is outside every
//!   annotated function, then the logical stack. Inside a request it joins the request.
//!
//! Runs on the thread that emits the event: no I/O, no lock beyond the span's own
//! extensions, every call into the host's `Debug`/`Display`/`source()` fenced.

use super::error::{Described, MAX_MESSAGE, MAX_SOURCES, cap_message, message_of};
use super::handled;
use std::borrow::Cow;
use std::error::Error;
use std::fmt::{self, Write};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The type name stored for every error recorded from a `tracing` event.
pub const TYPE_NAME: &str = "tracing event";

/// The layer; see [`layer`].
#[derive(Debug, Clone, Copy)]
pub struct FmdLayer {
    level: Level,
}

/// A `tracing_subscriber` layer that records events at `ERROR` as captured errors (like
/// `capture!`): inside a monitored request they join it, elsewhere they are
/// `(background)`.
///
/// ```no_run
/// use tracing_subscriber::prelude::*;
///
/// tracing_subscriber::registry()
///     .with(fmd_runtime::request::tracing_layer::layer())
///     .init();
/// let e = std::io::Error::other("card declined");
/// tracing::error!(error = &e as &dyn std::error::Error, user = 7, "charge failed");
/// ```
pub fn layer() -> FmdLayer {
    FmdLayer {
        level: Level::ERROR,
    }
}

impl Default for FmdLayer {
    fn default() -> Self {
        layer()
    }
}

impl FmdLayer {
    /// Records events at `level` and more severe (e.g. `Level::WARN`: warnings and errors).
    ///
    /// ```
    /// let layer = fmd_runtime::request::tracing_layer::layer().with_level(tracing::Level::WARN);
    /// # let _ = layer;
    /// ```
    pub fn with_level(self, level: Level) -> Self {
        FmdLayer { level }
    }
}

/// A span's fields as `key=value` text, kept in the span's extensions.
struct SpanFields(String);

impl<S> Layer<S> for FmdLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let _ = crate::fence::contain(|| {
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            if let Some(span) = ctx.span(id) {
                span.extensions_mut().replace(SpanFields(fields.context));
            }
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let _ = crate::fence::contain(|| {
            let Some(span) = ctx.span(id) else { return };
            let mut fields = Fields::default();
            values.record(&mut fields);
            let mut ext = span.extensions_mut();
            match ext.get_mut::<SpanFields>() {
                Some(SpanFields(text)) => append(text, &fields.context),
                None => ext.insert(SpanFields(fields.context)),
            }
        });
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        // `Level` orders the more verbose as greater: ERROR < WARN < INFO.
        if *meta.level() > self.level {
            return;
        }
        let _ = crate::fence::contain(|| {
            let mut fields = Fields::default();
            event.record(&mut fields);
            if let Some(scope) = ctx.event_scope(event) {
                for span in scope {
                    if let Some(SpanFields(text)) = span.extensions().get::<SpanFields>() {
                        append(&mut fields.context, text);
                    }
                }
            }
            let mut message = fields.message;
            append(&mut message, &fields.context);
            let described = Described {
                type_name: Cow::Borrowed(TYPE_NAME),
                message: cap_message(&message),
                sources: fields.sources,
                backtrace: None,
            };
            let (file, line) = match (meta.file(), meta.line()) {
                (Some(file), line) => (Cow::Borrowed(file), line.unwrap_or(0)),
                (None, _) => (Cow::Borrowed("<unknown>"), 0),
            };
            let label = meta.module_path().unwrap_or(meta.target());
            handled::capture_at(described, file, line, label);
        });
    }
}

/// Appends `more` to `text`, separated by a space, up to [`MAX_MESSAGE`] bytes.
fn append(text: &mut String, more: &str) {
    if more.is_empty() || text.len() >= MAX_MESSAGE {
        return;
    }
    if !text.is_empty() {
        text.push(' ');
    }
    text.push_str(more);
}

/// What a visit over an event's (or a span's) fields collects.
#[derive(Default)]
struct Fields {
    message: String,
    /// `key=value` pairs, in the order visited.
    context: String,
    /// The `error` field's message and `source()` chain.
    sources: Vec<String>,
}

impl Fields {
    fn pair(&mut self, field: &Field, value: fmt::Arguments<'_>) {
        if self.context.len() >= MAX_MESSAGE {
            return;
        }
        if !self.context.is_empty() {
            self.context.push(' ');
        }
        let _ = write!(self.context, "{}=", field.name());
        self.context.push_str(&message_of(&value));
    }
}

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.message = message_of(&format_args!("{value:?}"));
        } else {
            self.pair(field, format_args!("{value:?}"));
        }
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.message = cap_message(value);
        } else {
            self.pair(field, format_args!("{value}"));
        }
    }

    fn record_error(&mut self, field: &Field, value: &(dyn Error + 'static)) {
        if field.name() != "error" || !self.sources.is_empty() {
            self.pair(field, format_args!("{value}"));
            return;
        }
        let described = Described::error(TYPE_NAME, value);
        self.sources.push(described.message);
        self.sources.extend(described.sources);
        self.sources.truncate(MAX_SOURCES);
    }
}
