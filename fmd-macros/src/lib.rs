//! The attributes of fmd: `#[monitored]` for request handlers, `#[capture]` for the
//! functions they call. Use them through the facade: `use fmd::prelude::*;`.
//!
//! The expansion is a pipeline, one module per step:
//! `attr` parses the arguments, `valid` checks the item, `source` locates the
//! function and embeds its verbatim text, `commit` finds the crate's git commit, `rewrite`
//! routes every `?` and `Err(..)` through the error return trace, and `expand` generates
//! the wrapper.

mod attr;
mod commit;
mod expand;
mod rewrite;
mod source;
mod valid;

use attr::Kind;
use proc_macro::TokenStream;

fn run(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let attr_span = proc_macro2::Span::call_site();
    let item = proc_macro2::TokenStream::from(item);
    let parsed = attr::parse(kind, args.into());
    let function = valid::function(kind, item.clone());
    match (parsed, function) {
        (Ok(args), Ok(f)) => {
            let source = source::locate(&f, attr_span);
            expand::expand(kind, args, f, source).into()
        }
        (Err(mut a), Err(b)) => {
            a.combine(b);
            error_with_item(a, item)
        }
        (Err(e), Ok(_)) | (Ok(_), Err(e)) => error_with_item(e, item),
    }
}

/// Reports `e` and keeps the item unchanged, so the rest of the crate still type-checks
/// and only the real mistake is shown.
fn error_with_item(e: syn::Error, item: proc_macro2::TokenStream) -> TokenStream {
    let error = e.to_compile_error();
    quote::quote!(#error #item).into()
}

/// Monitors a request handler (an endpoint).
///
/// Every request to it is timed and stored with its status; an `Err` it returns and any
/// panic inside it are stored with a trace that shows the source of each annotated function
/// the error passed through.
///
/// Arguments, all optional:
/// - `level = 0..=3`: the monitoring level (default: the configured level, 1);
/// - `name = ".."`: the endpoint's name (default: `module::function`).
///
/// ```ignore
/// use fmd::prelude::*;
///
/// #[monitored(level = 2)]
/// async fn forecast(Path(city): Path<String>) -> Result<Json<Forecast>, AppError> {
///     Ok(Json(load_forecast(&city).await?))
/// }
/// ```
#[proc_macro_attribute]
pub fn monitored(args: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::Monitored, args, item)
}

/// Puts a function on fmd's traces: its frame appears in stack traces (with its source)
/// and every `?` / `Err(..)` in it is recorded in the error return trace.
///
/// ```ignore
/// use fmd::prelude::*;
///
/// #[capture]
/// async fn load_forecast(city: &str) -> Result<Forecast, AppError> {
///     let raw = fetch(city).await?; // recorded if the error passes here
///     parse(&raw)
/// }
/// ```
#[proc_macro_attribute]
pub fn capture(args: TokenStream, item: TokenStream) -> TokenStream {
    run(Kind::Capture, args, item)
}
