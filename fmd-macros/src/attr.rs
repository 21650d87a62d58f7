//! The attribute's arguments, parsed into a plain struct. Every misuse is collected as a
//! `syn::Error` on the offending token and reported together.

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitStr, MetaNameValue, Token};

/// Which attribute is being expanded.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Monitored,
    Capture,
}

impl Kind {
    pub fn attr_name(self) -> &'static str {
        match self {
            Kind::Monitored => "monitored",
            Kind::Capture => "capture",
        }
    }
}

/// The arguments of `#[monitored(level = N, name = "..")]` / `#[capture]`.
#[derive(Default)]
pub struct Args {
    pub level: Option<u8>,
    pub name: Option<LitStr>,
}

struct RawArgs(Punctuated<MetaNameValue, Token![,]>);

impl Parse for RawArgs {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        Punctuated::parse_terminated(input).map(RawArgs)
    }
}

fn combine(errors: &mut Option<syn::Error>, e: syn::Error) {
    match errors {
        Some(all) => all.combine(e),
        None => *errors = Some(e),
    }
}

/// Parses the attribute arguments for `kind`.
pub fn parse(kind: Kind, tokens: TokenStream) -> syn::Result<Args> {
    let mut args = Args::default();
    if tokens.is_empty() {
        return Ok(args);
    }
    if kind == Kind::Capture {
        return Err(syn::Error::new_spanned(
            tokens,
            "#[capture] takes no arguments; levels are set on the #[monitored] handler",
        ));
    }
    let RawArgs(list) = syn::parse2(tokens).map_err(|e| {
        syn::Error::new(
            e.span(),
            "expected `level = 0..=3` and/or `name = \"endpoint name\"`",
        )
    })?;
    let mut errors = None;
    for arg in list {
        let Some(key) = arg.path.get_ident().map(ToString::to_string) else {
            combine(
                &mut errors,
                syn::Error::new_spanned(&arg.path, "unknown argument; expected `level` or `name`"),
            );
            continue;
        };
        match key.as_str() {
            "level" => match level(&arg.value) {
                Ok(l) if args.level.is_some() => {
                    let _ = l;
                    combine(
                        &mut errors,
                        syn::Error::new_spanned(&arg.path, "`level` is given twice"),
                    );
                }
                Ok(l) => args.level = Some(l),
                Err(e) => combine(&mut errors, e),
            },
            "name" => match &arg.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) if s.value().trim().is_empty() => {
                    combine(
                        &mut errors,
                        syn::Error::new_spanned(s, "`name` must not be empty"),
                    );
                }
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) if args.name.is_none() => {
                    args.name = Some(s.clone());
                }
                Expr::Lit(ExprLit {
                    lit: Lit::Str(_), ..
                }) => {
                    combine(
                        &mut errors,
                        syn::Error::new_spanned(&arg.path, "`name` is given twice"),
                    );
                }
                other => combine(
                    &mut errors,
                    syn::Error::new_spanned(
                        other,
                        "`name` expects a string literal: name = \"forecast\"",
                    ),
                ),
            },
            _ => combine(
                &mut errors,
                syn::Error::new_spanned(
                    &arg.path,
                    format!("unknown argument `{key}`; expected `level` or `name`"),
                ),
            ),
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(args),
    }
}

fn level(value: &Expr) -> syn::Result<u8> {
    match value {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => match i.base10_parse::<u8>() {
            Ok(l) if l <= 3 => Ok(l),
            _ => Err(syn::Error::new_spanned(
                i,
                "monitoring level must be 0, 1, 2 or 3",
            )),
        },
        other => Err(syn::Error::new_spanned(
            other,
            "`level` expects an integer literal 0, 1, 2 or 3: level = 2",
        )),
    }
}
