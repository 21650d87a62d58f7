//! Records the error return trace: every `?`, `return Err(..)` and tail `Err(..)` in an
//! annotated body is routed through `::fmd::__private_0_1::hop`, which notes the site when the
//! value is an error and returns it unchanged.
//!
//! Nested items (inner `fn`s, `impl`s) are left alone: they are other functions. Closures
//! and async blocks are rewritten: their sites are lines of this function. Macro invocations
//! are opaque token streams and are not looked into.

use proc_macro2::Span;
use quote::quote_spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{Block, Expr, Ident, Item, Stmt};

struct Hops<'a> {
    info: &'a Ident,
}

/// Which hop a site calls: what the code tells of where its error came from.
#[derive(Clone, Copy)]
enum HopKind {
    /// `expr?`: from `expr`.
    Try,
    /// `Err(e)` of a variable: maybe from a callee.
    Value,
    /// `Err(..)` of anything else: a new error.
    New,
}

fn line(span: Span) -> u32 {
    span.start().line as u32
}

/// `Err(..)` of `Result`: bare `Err`, `Result::Err`, `std::result::Result::Err` (and
/// `core::`). An `Err` variant of another enum is left alone.
fn is_err_call(e: &Expr) -> bool {
    match e {
        Expr::Call(call) => matches!(&*call.func, Expr::Path(p) if p.qself.is_none() && {
            let names: Vec<String> = p.path.segments.iter().map(|s| s.ident.to_string()).collect();
            let names: Vec<&str> = names.iter().map(String::as_str).collect();
            matches!(
                names.as_slice(),
                ["Err"] | ["Result", "Err"] | ["std" | "core", "result", "Result", "Err"]
            )
        }),
        Expr::Paren(p) => is_err_call(&p.expr),
        _ => false,
    }
}

/// Whether the value inside `Err(..)` may be an error a callee returned: a variable (`e`),
/// or one converted (`e.into()`). Anything else is a new error.
fn carries_a_value(e: &Expr) -> bool {
    let Expr::Call(call) = e else { return false };
    let mut args = call.args.iter();
    let (Some(arg), None) = (args.next(), args.next()) else {
        return false;
    };
    let is_variable = |e: &Expr| {
        matches!(e, Expr::Path(p) if p.qself.is_none() && p.path.segments.len() == 1
            && p.path.segments[0].ident.to_string().starts_with(|c: char| c.is_lowercase() || c == '_'))
    };
    match arg {
        Expr::MethodCall(m) => m.method == "into" && m.args.is_empty() && is_variable(&m.receiver),
        other => is_variable(other),
    }
}

impl Hops<'_> {
    /// Routes `e` through the hop `kind` (`hop`, `hop_new`, or `hop_try` for a `?`).
    fn wrap(&self, e: &mut Expr, span: Span, kind: HopKind) {
        let info = self.info;
        let line = line(span);
        let inner = std::mem::replace(e, Expr::Verbatim(Default::default()));
        *e = Expr::Verbatim(match kind {
            HopKind::Try => quote_spanned! {span=>
                ::fmd::__private_0_1::hop_try(::fmd::__private_0_1::mark(), #inner, &#info, #line)
            },
            HopKind::Value => quote_spanned! {span=>
                ::fmd::__private_0_1::hop(#inner, &#info, #line)
            },
            HopKind::New => quote_spanned! {span=>
                ::fmd::__private_0_1::hop_new(#inner, &#info, #line)
            },
        });
    }

    /// Wraps `Err(..)` in tail position of `e`, following `if`, `match` and blocks.
    fn tail(&mut self, e: &mut Expr) {
        match e {
            _ if is_err_call(e) => {
                let span = match e {
                    Expr::Call(c) => syn::spanned::Spanned::span(&c.func),
                    _ => Span::call_site(),
                };
                let kind = if carries_a_value(e) {
                    HopKind::Value
                } else {
                    HopKind::New
                };
                self.wrap(e, span, kind)
            }
            Expr::If(i) => {
                self.tail_block(&mut i.then_branch);
                if let Some((_, els)) = &mut i.else_branch {
                    self.tail(els);
                }
            }
            Expr::Match(m) => {
                for arm in &mut m.arms {
                    self.tail(&mut arm.body);
                }
            }
            Expr::Block(b) => self.tail_block(&mut b.block),
            Expr::Unsafe(u) => self.tail_block(&mut u.block),
            _ => {}
        }
    }

    fn tail_block(&mut self, b: &mut Block) {
        if let Some(Stmt::Expr(e, None)) = b.stmts.last_mut() {
            self.tail(e);
        }
    }
}

impl VisitMut for Hops<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        visit_mut::visit_expr_mut(self, e);
        match e {
            Expr::Try(t) => {
                let span = t.question_token.span;
                self.wrap(&mut t.expr, span, HopKind::Try);
            }
            Expr::Return(r) => {
                if let Some(value) = r.expr.as_deref_mut() {
                    self.tail(value);
                }
            }
            Expr::Closure(c) => {
                // A closure's tail `Err(..)` is its return value.
                self.tail(&mut c.body);
            }
            _ => {}
        }
    }

    fn visit_item_mut(&mut self, _: &mut Item) {}

    fn visit_macro_mut(&mut self, _: &mut syn::Macro) {}
}

/// Rewrites `block` (the function's body) to record hops against the static `info`.
pub fn body(block: &mut Block, info: &Ident) {
    let mut hops = Hops { info };
    hops.visit_block_mut(block);
    hops.tail_block(block);
}

/// `#[async_trait]` moves the body of an `async fn` into `let __ret: Ret = { body };`
/// inside its async block: the body's tail `Err(..)` is that initializer's tail.
pub fn async_trait_tail(block: &mut Block, info: &Ident) {
    let mut hops = Hops { info };
    for stmt in &mut block.stmts {
        let Stmt::Local(local) = stmt else { continue };
        let named_ret = match &local.pat {
            syn::Pat::Type(t) => matches!(&*t.pat, syn::Pat::Ident(i) if i.ident == "__ret"),
            _ => false,
        };
        if let (true, Some(init)) = (named_ret, local.init.as_mut()) {
            hops.tail(&mut init.expr);
        }
    }
}
