//! The values of our keys: string, path, number and example literals, flags, bounds and
//! patterns, each checked where it is read so that the error points at it.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ExprUnary, Lit, LitStr, UnOp};

use super::symbol::{EXAMPLE, MAX, MIN, PATTERN, STREAM};
use crate::ctxt::Ctxt;

/// A value with the span of the attribute that set it, for later diagnostics.
pub(crate) struct WithSpan<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// How a field shows in the type's partial value, from `#[extract(stream(...))]`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stream {
    /// `stream(done)`: the field shows only once its value is complete.
    Done,
    /// `stream(skip)`: the field is left out of the partial.
    Skip,
}

pub(super) fn key_of(meta: &ParseNestedMeta<'_>) -> String {
    meta.path.get_ident().map_or_else(
        || {
            let path = &meta.path;
            quote::quote!(#path).to_string().replace(' ', "")
        },
        ToString::to_string,
    )
}

pub(super) fn string(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<LitStr> {
    let expr: Expr = meta.value()?.parse()?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s),
        other => Err(syn::Error::new(
            other.span(),
            format!("`{key}` expects a string literal, as in `{key} = \"…\"`"),
        )),
    }
}

pub(super) fn path_value(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<syn::Path> {
    let expr: Expr = meta.value()?.parse()?;
    match expr {
        Expr::Path(p) => Ok(p.path),
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => s.parse::<syn::Path>(),
        other => Err(syn::Error::new(
            other.span(),
            format!("`{key}` expects a path to a function, as in `{key} = my_check`"),
        )),
    }
}

/// A literal, possibly negated (`-1.5`), and whether it was; `expects` is the error when
/// the value is no literal at all.
fn signed_literal(meta: &ParseNestedMeta<'_>, expects: &str) -> syn::Result<(bool, Lit)> {
    let expr: Expr = meta.value()?.parse()?;
    let (negative, inner) = match &expr {
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr: inner,
            ..
        }) => (true, &**inner),
        _ => (false, &expr),
    };
    match inner {
        Expr::Lit(ExprLit { lit, .. }) => Ok((negative, lit.clone())),
        _ => Err(syn::Error::new(expr.span(), expects)),
    }
}

/// A number literal, possibly negative: `range(min = -1.5)`.
pub(super) fn number(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<f64> {
    let expects = format!("`{key}` expects a number, as in `{key} = 10`");
    let (negative, lit) = signed_literal(meta, &expects)?;
    let value = match &lit {
        Lit::Int(i) => i.base10_parse::<f64>()?,
        Lit::Float(f) => f.base10_parse::<f64>()?,
        other => return Err(syn::Error::new(other.span(), expects)),
    };
    Ok(if negative { -value } else { value })
}

pub(super) fn count(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<u64> {
    let expr: Expr = meta.value()?.parse()?;
    match &expr {
        Expr::Lit(ExprLit {
            lit: Lit::Int(i), ..
        }) => i.base10_parse::<u64>(),
        _ => Err(syn::Error::new(
            expr.span(),
            format!("`{key}` expects a whole number, as in `{key} = 1`"),
        )),
    }
}

/// A field example: a string, number or bool literal, turned into JSON text.
pub(super) fn example_literal(meta: &ParseNestedMeta<'_>) -> syn::Result<String> {
    const EXPECTS: &str = "`example` expects a string, number or bool literal";
    let (negative, lit) = signed_literal(meta, EXPECTS)?;
    let sign = if negative { "-" } else { "" };
    match lit {
        Lit::Str(s) if !negative => Ok(serde_json::to_string(&s.value()).unwrap_or_default()),
        Lit::Int(i) => Ok(format!("{sign}{}", i.base10_digits())),
        Lit::Float(f) => Ok(format!("{sign}{}", f.base10_digits())),
        Lit::Bool(b) if !negative => Ok(b.value.to_string()),
        other => Err(syn::Error::new(other.span(), EXPECTS)),
    }
}

/// A key that takes no value, as `strict` in `#[extract(strict)]`.
pub(super) fn flag(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<()> {
    if meta.input.is_empty() || meta.input.peek(syn::Token![,]) {
        Ok(())
    } else {
        Err(meta.error(format!("`{key}` takes no value: write `#[extract({key})]`")))
    }
}

/// A container example: JSON text, checked here so that a typo fails the build.
pub(super) fn json_example(meta: &ParseNestedMeta<'_>) -> syn::Result<String> {
    let lit = string(meta, EXAMPLE)?;
    match serde_json::from_str::<serde_json::Value>(&lit.value()) {
        Ok(_) => Ok(lit.value()),
        Err(e) => Err(syn::Error::new(
            lit.span(),
            format!("`example` on a type must be JSON text: {e}"),
        )),
    }
}

/// A `pattern`, checked to be a regular expression, with the literal's span.
pub(super) fn pattern(meta: &ParseNestedMeta<'_>) -> syn::Result<WithSpan<String>> {
    let lit = string(meta, PATTERN)?;
    if let Err(e) = regex_syntax::Parser::new().parse(&lit.value()) {
        return Err(syn::Error::new(
            lit.span(),
            format!(
                "`pattern` is not a valid regular expression: {}",
                regex_error_summary(&e.to_string())
            ),
        ));
    }
    Ok(WithSpan {
        value: lit.value(),
        span: lit.span(),
    })
}

/// `stream(done)` or `stream(skip)`. An unknown mode is reported and gives `None`.
pub(super) fn stream(meta: &ParseNestedMeta<'_>, cx: &Ctxt) -> syn::Result<Option<Stream>> {
    let expects = || {
        meta.error(format!(
            "`{STREAM}` expects `{STREAM}(done)` or `{STREAM}(skip)`"
        ))
    };
    let empty = meta.input.peek(syn::token::Paren) && {
        let fork = meta.input.fork();
        let content;
        syn::parenthesized!(content in fork);
        content.is_empty()
    };
    if !meta.input.peek(syn::token::Paren) || empty {
        return Err(expects());
    }
    let mut modes = Vec::new();
    meta.parse_nested_meta(|inner| {
        let key = key_of(&inner);
        let mode = match key.as_str() {
            "done" => Stream::Done,
            "skip" => Stream::Skip,
            _ => {
                cx.push(inner.error(format!(
                    "unknown key `{key}` in `{STREAM}`; expected `done` or `skip`"
                )));
                return skip_value(&inner);
            }
        };
        if !(inner.input.is_empty() || inner.input.peek(syn::Token![,])) {
            return Err(inner.error(format!("`{key}` takes no value: write `{STREAM}({key})`")));
        }
        if !modes.is_empty() {
            cx.push(inner.error(format!("`{STREAM}` takes one of `done` and `skip`")));
        }
        modes.push(mode);
        Ok(())
    })?;
    Ok(modes.first().copied())
}

/// Skips the rest of a key's tokens (`= value` or `(…)`), so the next key is read cleanly.
pub(crate) fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: syn::Token![=] = meta.input.parse()?;
        let _: Expr = meta.input.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        let _: proc_macro2::TokenStream = content.parse()?;
    }
    Ok(())
}

/// Parses `(min = …, max = …)` with `parse` for each bound: at least one bound, and min
/// not above max. Unknown keys are reported and skipped so that one typo gives one error.
pub(super) fn bounds<T: Copy + PartialOrd + std::fmt::Display>(
    meta: &ParseNestedMeta<'_>,
    what: &str,
    cx: &Ctxt,
    parse: fn(&ParseNestedMeta<'_>, &str) -> syn::Result<T>,
) -> syn::Result<WithSpan<(Option<T>, Option<T>)>> {
    let span = meta.path.span();
    let needs = || syn::Error::new(span, format!("`{what}` needs `min`, `max` or both"));
    let empty = {
        let fork = meta.input.fork();
        let content;
        syn::parenthesized!(content in fork);
        content.is_empty()
    };
    if empty {
        let _: proc_macro2::TokenStream = meta.input.parse()?;
        return Err(needs());
    }
    let (mut min, mut max) = (None, None);
    meta.parse_nested_meta(|inner| {
        let key = key_of(&inner);
        match key.as_str() {
            MIN => min = Some(parse(&inner, MIN)?),
            MAX => max = Some(parse(&inner, MAX)?),
            _ => {
                cx.push(inner.error(format!(
                    "unknown key `{key}` in `{what}`; expected `{MIN}` or `{MAX}`"
                )));
                if inner.input.peek(syn::Token![=]) {
                    let _: Expr = inner.value()?.parse()?;
                }
            }
        }
        Ok(())
    })?;
    match (min, max) {
        (None, None) => Err(needs()),
        (Some(a), Some(b)) if a > b => Err(syn::Error::new(
            span,
            format!("`{what}` has min {a} above max {b}"),
        )),
        _ => Ok(WithSpan {
            value: (min, max),
            span,
        }),
    }
}

/// The one line of a regex-syntax error that says what is wrong: the messages span several
/// lines with an ASCII pointer, and the last `error:` line is the summary.
pub(super) fn regex_error_summary(message: &str) -> String {
    message
        .lines()
        .rev()
        .find(|l| l.trim_start().starts_with("error:"))
        .map_or_else(
            || message.lines().last().unwrap_or_default().to_owned(),
            |l| {
                l.trim_start()
                    .trim_start_matches("error:")
                    .trim()
                    .to_owned()
            },
        )
}
