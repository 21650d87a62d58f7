//! The attribute's arguments, parsed into a plain struct. Every misuse is collected as a
//! `syn::Error` on the offending token and reported together.

use proc_macro2::TokenStream;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, ExprLit, Lit, LitStr, Token};

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

/// One argument as written: `key = value`, or a bare `key` (reported as missing its value).
struct RawArg {
    key: syn::Path,
    value: Option<Expr>,
}

impl Parse for RawArg {
    fn parse(input: ParseStream) -> syn::Result<Self> {
        let key = input.call(syn::Path::parse_mod_style)?;
        let value = if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            Some(input.parse()?)
        } else {
            None
        };
        Ok(RawArg { key, value })
    }
}

struct RawArgs(Punctuated<RawArg, Token![,]>);

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

/// What a known argument looks like, for messages.
fn example(key: &str) -> &'static str {
    match key {
        "level" => "level = 2",
        _ => "name = \"forecast\"",
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
    let mut seen: Vec<String> = Vec::new();
    for RawArg { key: path, value } in list {
        let key = match path.get_ident() {
            Some(ident) if ident == "level" || ident == "name" => ident.to_string(),
            _ => {
                let key = quote::ToTokens::to_token_stream(&path)
                    .to_string()
                    .replace(' ', "");
                let message = match suggestion(&key) {
                    Some(known) => format!(
                        "unknown argument `{key}`; did you mean `{known}`? (expected `level` or `name`)"
                    ),
                    None => format!("unknown argument `{key}`; expected `level` or `name`"),
                };
                combine(&mut errors, syn::Error::new_spanned(&path, message));
                continue;
            }
        };
        if seen.contains(&key) {
            combine(
                &mut errors,
                syn::Error::new_spanned(&path, format!("`{key}` is given twice; remove this one")),
            );
            continue;
        }
        seen.push(key.clone());
        let Some(value) = value else {
            combine(
                &mut errors,
                syn::Error::new_spanned(&path, format!("`{key}` needs a value: {}", example(&key))),
            );
            continue;
        };
        if key == "level" {
            match level(&value) {
                Ok(l) => args.level = Some(l),
                Err(e) => combine(&mut errors, e),
            }
            continue;
        }
        match &value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) if s.value().trim().is_empty() => combine(
                &mut errors,
                syn::Error::new_spanned(s, "`name` must not be empty"),
            ),
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => args.name = Some(s.clone()),
            other => combine(
                &mut errors,
                syn::Error::new_spanned(
                    other,
                    "`name` expects a string literal: name = \"forecast\"",
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
                format!(
                    "monitoring level must be 0, 1, 2 or 3, not {}",
                    i.base10_digits()
                ),
            )),
        },
        other => Err(syn::Error::new_spanned(
            other,
            "`level` expects an integer literal 0, 1, 2 or 3: level = 2",
        )),
    }
}

/// The known argument `key` is probably a misspelling of (at most two edits away).
fn suggestion(key: &str) -> Option<&'static str> {
    ["level", "name"]
        .into_iter()
        .find(|known| edit_distance(&key.to_ascii_lowercase(), known) <= 2)
}

/// Levenshtein distance, with a swap of two neighbours counted as one edit.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}
