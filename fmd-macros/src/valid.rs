//! What the attributes accept: a function with a body that can be wrapped.

use crate::attr::Kind;
use proc_macro2::{Span, TokenStream, TokenTree};
use syn::spanned::Spanned;
use syn::{Item, ItemFn};

/// Parses the annotated item as a function, or explains what is wrong, pointing at it.
pub fn function(kind: Kind, item: TokenStream) -> syn::Result<ItemFn> {
    let name = kind.attr_name();
    let f: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => return Err(not_a_function(name, item)),
    };
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

/// The error for an item that is not a function with a body: it names what the item is
/// and points at its keyword (`struct`, `const`, ...), not at its visibility.
fn not_a_function(name: &str, item: TokenStream) -> syn::Error {
    let (span, what) = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Struct(i)) => (i.struct_token.span, "a struct"),
        Ok(Item::Enum(i)) => (i.enum_token.span, "an enum"),
        Ok(Item::Union(i)) => (i.union_token.span, "a union"),
        Ok(Item::Const(i)) => (i.const_token.span, "a constant"),
        Ok(Item::Static(i)) => (i.static_token.span, "a static"),
        Ok(Item::Type(i)) => (i.type_token.span, "a type alias"),
        Ok(Item::Trait(i)) => (i.trait_token.span, "a trait"),
        Ok(Item::TraitAlias(i)) => (i.trait_token.span, "a trait alias"),
        Ok(Item::Impl(i)) => (
            i.impl_token.span,
            "an impl block (put it on each method instead)",
        ),
        Ok(Item::Mod(i)) => (i.mod_token.span, "a module"),
        Ok(Item::Use(i)) => (i.use_token.span, "a `use` declaration"),
        Ok(Item::ExternCrate(i)) => (i.extern_token.span, "an `extern crate`"),
        Ok(Item::ForeignMod(i)) => (i.abi.extern_token.span, "an `extern` block"),
        Ok(Item::Macro(i)) => (i.mac.path.span(), "a macro invocation"),
        _ => match fn_without_body(&item) {
            Some(span) => (span, "a function declaration without a body"),
            None => (first_span(&item), "this item"),
        },
    };
    syn::Error::new(
        span,
        format!("#[{name}] can only be applied to functions and methods with a body, not {what}"),
    )
}

/// The `fn` keyword of a declaration like `fn f();` (a trait method without a default).
fn fn_without_body(item: &TokenStream) -> Option<Span> {
    let tokens: Vec<TokenTree> = item.clone().into_iter().collect();
    let ends_with_semi = matches!(tokens.last(), Some(TokenTree::Punct(p)) if p.as_char() == ';');
    if !ends_with_semi {
        return None;
    }
    tokens.iter().find_map(|t| match t {
        TokenTree::Ident(i) if i == "fn" => Some(i.span()),
        _ => None,
    })
}

fn first_span(item: &TokenStream) -> Span {
    item.clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span())
}
