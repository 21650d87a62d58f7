//! Code generation. The generated code is small: a `static` descriptor, its registration,
//! and a call into `::fmd::__private` that wraps the original (rewritten) body.

use crate::attr::{Args, Kind};
use crate::rewrite;
use crate::source::Source;
use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::ItemFn;

/// Expands `#[monitored]` / `#[capture]` on `f`.
pub fn expand(kind: Kind, args: Args, mut f: ItemFn, source: Source) -> TokenStream {
    let info = format_ident!("__FMD_FN", span = Span::mixed_site());
    let name = f.sig.ident.to_string();
    let endpoint = match &args.name {
        Some(n) => quote!(::core::option::Option::Some(#n)),
        None => quote!(::core::option::Option::None),
    };
    let fn_kind = match (kind, args.level) {
        (Kind::Capture, _) => quote!(::fmd::__private::FnKind::Capture),
        (Kind::Monitored, Some(l)) => {
            quote!(::fmd::__private::FnKind::Monitored { level: ::core::option::Option::Some(#l) })
        }
        (Kind::Monitored, None) => {
            quote!(::fmd::__private::FnKind::Monitored {
                level: ::core::option::Option::None
            })
        }
    };
    let Source {
        start_line,
        end_line,
        text,
        verbatim,
        hash,
    } = source;

    rewrite::body(&mut f.block, &info);
    let block = &f.block;
    let is_async = f.sig.asyncness.is_some();
    let span = Span::call_site();

    let call = match (kind, is_async) {
        (Kind::Capture, true) => quote_spanned! {span=>
            ::fmd::__private::Captured::new(&#info, async move #block).await
        },
        (Kind::Capture, false) => quote_spanned! {span=>
            let __fmd_frame = ::fmd::__private::SyncFrame::enter(&#info);
            #block
        },
        (Kind::Monitored, true) => {
            let inspect = inspect();
            quote_spanned! {span=>
                ::fmd::__private::Monitored::new(&#info, async move #block, #inspect).await
            }
        }
        (Kind::Monitored, false) => {
            let inspect = inspect();
            quote_spanned! {span=>
                ::fmd::__private::monitored_sync(&#info, move || #block, #inspect)
            }
        }
    };

    let attrs = &f.attrs;
    let vis = &f.vis;
    let sig = &f.sig;
    quote! {
        #(#attrs)*
        #vis #sig {
            static #info: ::fmd::__private::FnInfo = ::fmd::__private::FnInfo::new(
                #name,
                #endpoint,
                ::core::module_path!(),
                ::core::file!(),
                (#start_line, #end_line),
                #text,
                #verbatim,
                #hash,
                #fn_kind,
                (
                    match ::core::option_env!("CARGO_PKG_NAME") { ::core::option::Option::Some(v) => v, ::core::option::Option::None => "" },
                    match ::core::option_env!("CARGO_PKG_VERSION") { ::core::option::Option::Some(v) => v, ::core::option::Option::None => "" },
                ),
            );
            ::fmd::__private::inventory::submit! { ::fmd::__private::Registration(&#info) }
            #call
        }
    }
}

/// The closure that tells an `Err` output apart (autoref specialization, see
/// `fmd_runtime::private::inspect`).
fn inspect() -> TokenStream {
    quote! {
        |__fmd_out| {
            #[allow(unused_imports)]
            use ::fmd::__private::inspect::{
                OutDebug as _, OutDisplay as _, OutDynError as _, OutDynSendError as _,
                OutError as _, OutOther as _,
            };
            (&&&&&&::fmd::__private::inspect::Out(__fmd_out)).__fmd_output()
        }
    }
}
