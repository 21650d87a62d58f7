//! Code generation. The generated code is small: a `static` descriptor, its registration,
//! and a call into `::fmd::__private_0_1` that wraps the original (rewritten) body.

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
        (Kind::Capture, _) => quote!(::fmd::__private_0_1::FnKind::Capture),
        (Kind::Monitored, Some(l)) => {
            quote!(::fmd::__private_0_1::FnKind::Monitored { level: ::core::option::Option::Some(#l) })
        }
        (Kind::Monitored, None) => {
            quote!(::fmd::__private_0_1::FnKind::Monitored {
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
    let is_async = f.sig.asyncness.is_some();
    let span = Span::call_site();

    // An `async fn` that `#[async_trait]` expanded first (it sits on the impl, so it runs
    // before the attributes of the methods): a plain `fn` whose whole body is
    // `Box::pin(async move { .. })`. The future inside is wrapped, not the boxing of it, so
    // the frame lives while the body runs and the handler's output is what it inspects.
    let boxed = !is_async && boxed_async(&mut f.block).is_some();
    if let Some(future) = boxed_async(&mut f.block).filter(|_| boxed) {
        if let syn::Expr::Async(a) = future {
            rewrite::async_trait_tail(&mut a.block, &info);
        }
        let inner = future.clone();
        *future = match kind {
            Kind::Capture => syn::parse_quote_spanned! {span=>
                ::fmd::__private_0_1::Framed::new(&#info, #inner)
            },
            Kind::Monitored => {
                let inspect = inspect();
                syn::parse_quote_spanned! {span=>
                    ::fmd::__private_0_1::Monitored::new(&#info, #inner, #inspect)
                }
            }
        };
    }
    let block = &f.block;

    // The async block (and the closure of a sync handler) is given the function's return
    // type, as a function's body is. Without it a tail such as `.sum()`, `.collect()` or
    // `.into()`, or a `?` whose error type comes from the signature, cannot be inferred:
    // `.await` does not carry the expected type back into the block, and the output
    // inspection picks its method before the type is known. `impl Trait` parts are left to
    // inference (`_`).
    let typed = format_ident!("__fmd_typed", span = Span::mixed_site());
    let output = output_type(&f.sig.output);
    let body = quote_spanned! {span=>
        {
            #[inline(always)]
            fn #typed<R, F: ::core::future::Future<Output = R>>(f: F) -> F { f }
            #typed::<#output, _>(async move #block)
        }
    };
    let call = match (kind, is_async) {
        _ if boxed => quote_spanned! {span=> #block },
        (Kind::Capture, true) => quote_spanned! {span=>
            ::fmd::__private_0_1::Framed::new(&#info, #body).await
        },
        (Kind::Capture, false) => quote_spanned! {span=>
            let __fmd_frame = ::fmd::__private_0_1::SyncFrame::enter(&#info);
            #block
        },
        (Kind::Monitored, true) => {
            let inspect = inspect();
            quote_spanned! {span=>
                ::fmd::__private_0_1::Monitored::new(&#info, #body, #inspect).await
            }
        }
        (Kind::Monitored, false) => {
            let inspect = inspect();
            quote_spanned! {span=>
                ::fmd::__private_0_1::monitored_sync::<#output>(&#info, move || #block, #inspect)
            }
        }
    };

    // Only handlers carry the commit: the version is taken from the handlers' crate.
    let commit = match kind {
        Kind::Monitored => crate::commit::head(),
        Kind::Capture => "",
    };
    // A method knows its type only through `Self`, available where there is a receiver or
    // the signature names `Self` (an attribute cannot see the impl it is in).
    let method = names_self(&f.sig);
    let owner = method.then(|| {
        quote_spanned! {span=> #info.set_owner(::core::any::type_name::<Self>()); }
    });
    let attrs = &f.attrs;
    let vis = &f.vis;
    let sig = &f.sig;
    quote! {
        #(#attrs)*
        #vis #sig {
            static #info: ::fmd::__private_0_1::FnInfo = ::fmd::__private_0_1::FnInfo::new(::fmd::__private_0_1::FnSite {
                name: #name,
                endpoint: #endpoint,
                module: ::core::module_path!(),
                file: ::core::file!(),
                start_line: #start_line,
                end_line: #end_line,
                source: #text,
                verbatim: #verbatim,
                code_hash: #hash,
                kind: #fn_kind,
                crate_name: match ::core::option_env!("CARGO_PKG_NAME") { ::core::option::Option::Some(v) => v, ::core::option::Option::None => "" },
                crate_version: match ::core::option_env!("CARGO_PKG_VERSION") { ::core::option::Option::Some(v) => v, ::core::option::Option::None => "" },
                manifest_dir: match ::core::option_env!("CARGO_MANIFEST_DIR") { ::core::option::Option::Some(v) => v, ::core::option::Option::None => "" },
                build_commit: #commit,
                method: #method,
            });
            ::fmd::__private_0_1::inventory::submit! { ::fmd::__private_0_1::Registration(&#info) }
            #owner
            #call
        }
    }
}

/// Whether `Self` exists inside the function: it has a receiver or its signature names
/// `Self`.
fn names_self(sig: &syn::Signature) -> bool {
    fn has_self(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|t| match t {
            proc_macro2::TokenTree::Ident(i) => i == "Self",
            proc_macro2::TokenTree::Group(g) => has_self(g.stream()),
            _ => false,
        })
    }
    sig.receiver().is_some() || has_self(quote!(#sig))
}

/// The future of a body that is only `Box::pin(<future>)` (what `#[async_trait]` makes of
/// an `async fn`), to be wrapped in place.
fn boxed_async(block: &mut syn::Block) -> Option<&mut syn::Expr> {
    let [syn::Stmt::Expr(syn::Expr::Call(call), None)] = block.stmts.as_mut_slice() else {
        return None;
    };
    let syn::Expr::Path(callee) = &*call.func else {
        return None;
    };
    let names: Vec<String> = callee
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let is_box_pin = names.ends_with(&["Box".to_owned(), "pin".to_owned()]);
    let one = call.args.len() == 1;
    match call.args.first_mut() {
        Some(arg @ syn::Expr::Async(_)) if is_box_pin && one => Some(arg),
        _ => None,
    }
}

/// The closure that tells an `Err` output apart (autoref specialization, see
/// `fmd_runtime::private::inspect`).
fn inspect() -> TokenStream {
    quote! {
        |__fmd_out| {
            #[allow(unused_imports)]
            use ::fmd::__private_0_1::inspect::{
                OutAnyErr as _, OutDebug as _, OutDisplay as _, OutDynError as _,
                OutDynSendError as _, OutError as _, OutOther as _,
            };
            (&&&&&&&::fmd::__private_0_1::inspect::Out(__fmd_out)).__fmd_output()
        }
    }
}

/// The function's return type as a type argument: `()` when none is written, `_` for `!`,
/// and every `impl Trait` replaced by `_` (it cannot be named inside the body).
fn output_type(output: &syn::ReturnType) -> TokenStream {
    struct Infer;
    impl syn::visit_mut::VisitMut for Infer {
        fn visit_type_mut(&mut self, ty: &mut syn::Type) {
            if let syn::Type::ImplTrait(i) = ty {
                let underscore = syn::Token![_](syn::spanned::Spanned::span(&i.impl_token));
                *ty = syn::Type::Infer(syn::TypeInfer {
                    underscore_token: underscore,
                });
            } else {
                syn::visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    match output {
        syn::ReturnType::Default => quote!(()),
        // `!` cannot be written as a type argument on stable: leave it to inference.
        syn::ReturnType::Type(_, ty) if matches!(**ty, syn::Type::Never(_)) => quote!(_),
        syn::ReturnType::Type(_, ty) => {
            let mut ty = (**ty).clone();
            syn::visit_mut::VisitMut::visit_type_mut(&mut Infer, &mut ty);
            quote!(#ty)
        }
    }
}
