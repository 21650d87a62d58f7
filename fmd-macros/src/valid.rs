//! What the attributes accept: a function with a body that can be wrapped.

use crate::attr::Kind;
use proc_macro2::{Span, TokenStream};
use syn::ItemFn;

/// Parses the annotated item as a function, or explains what is wrong, pointing at it.
pub fn function(kind: Kind, item: TokenStream) -> syn::Result<ItemFn> {
    let name = kind.attr_name();
    let f: ItemFn = syn::parse2(item.clone()).map_err(|_| {
        let span = item
            .into_iter()
            .next()
            .map_or_else(Span::call_site, |t| t.span());
        syn::Error::new(
            span,
            format!(
                "#[{name}] can only be applied to functions (fn items and methods with a body)"
            ),
        )
    })?;
    let mut errors: Option<syn::Error> = None;
    let mut add = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    if let Some(c) = &f.sig.constness {
        add(syn::Error::new_spanned(
            c,
            format!(
                "#[{name}] cannot be applied to a `const fn`: it adds timing and tracing at run time"
            ),
        ));
    }
    if let Some(v) = &f.sig.variadic {
        add(syn::Error::new_spanned(
            v,
            format!("#[{name}] does not support variadic functions"),
        ));
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(f),
    }
}
