//! Parsing of our own `#[extract(...)]` attributes and of doc comments.
//!
//! Serde's attributes are serde's: they are read through `serde_derive_internals`, never
//! here. Every problem is pushed to [`Ctxt`](crate::ctxt::Ctxt) so that one compile reports all of them.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ExprUnary, Lit, LitStr, UnOp};

use crate::ctxt::Ctxt;

/// A value with the span of the attribute that set it, for later diagnostics.
pub(crate) struct WithSpan<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// Container attributes: `#[extract(...)]` on the struct or enum.
#[derive(Default)]
pub(crate) struct Container {
    pub(crate) description: Option<String>,
    pub(crate) instructions: Option<String>,
    pub(crate) examples: Vec<String>,
    pub(crate) validate: Option<syn::Path>,
    pub(crate) krate: Option<syn::Path>,
    pub(crate) strict: bool,
    pub(crate) schemars: Option<Span>,
}

/// Field and variant attributes.
#[derive(Default)]
pub(crate) struct Member {
    pub(crate) description: Option<String>,
    pub(crate) examples: Vec<String>,
    pub(crate) range: Option<WithSpan<(Option<f64>, Option<f64>)>>,
    pub(crate) length: Option<WithSpan<(Option<u64>, Option<u64>)>>,
    pub(crate) pattern: Option<WithSpan<String>>,
    pub(crate) format: Option<WithSpan<String>>,
    pub(crate) validate: Option<syn::Path>,
}

impl Member {
    /// The keys that only make sense on a field, with the span of the first one set.
    pub(crate) fn field_only_span(&self) -> Option<(&'static str, Span)> {
        if let Some(r) = &self.range {
            return Some(("range", r.span));
        }
        if let Some(l) = &self.length {
            return Some(("length", l.span));
        }
        if let Some(p) = &self.pattern {
            return Some(("pattern", p.span));
        }
        if let Some(f) = &self.format {
            return Some(("format", f.span));
        }
        None
    }
}

/// The attribute our keys live in.
pub(crate) const EXTRACT: &str = "extract";
pub(crate) const SCHEMARS: &str = "schemars";
pub(crate) const CRATE: &str = "crate";

const CONTAINER_KEYS: &str =
    "`description`, `instructions`, `example`, `validate`, `strict`, `schemars`, `crate`";
const MEMBER_KEYS: &str =
    "`description`, `example`, `range`, `length`, `pattern`, `format`, `validate`";

/// The doc comment of an item, lines joined, one leading space per line removed.
pub(crate) fn doc(attrs: &[Attribute]) -> Option<String> {
    let mut lines = Vec::new();
    for attr in attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) = &nv.value
        {
            let line = s.value();
            lines.push(
                line.strip_prefix(' ')
                    .unwrap_or(&line)
                    .trim_end()
                    .to_owned(),
            );
        }
    }
    let text = lines.join("\n");
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// Remembers which keys were seen, to report duplicates.
struct Seen(Vec<String>);

impl Seen {
    fn first(&mut self, meta: &ParseNestedMeta<'_>, key: &str, cx: &Ctxt) -> bool {
        if self.0.iter().any(|k| k == key) {
            cx.push(syn::Error::new(
                meta.path.span(),
                format!("duplicate extract attribute `{key}`"),
            ));
            false
        } else {
            self.0.push(key.to_owned());
            true
        }
    }
}

fn key_of(meta: &ParseNestedMeta<'_>) -> String {
    meta.path.get_ident().map_or_else(
        || {
            let path = &meta.path;
            quote::quote!(#path).to_string().replace(' ', "")
        },
        ToString::to_string,
    )
}

fn string(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<LitStr> {
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

fn path_value(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<syn::Path> {
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

/// A number literal, possibly negative: `range(min = -1.5)`.
fn number(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<f64> {
    let expr: Expr = meta.value()?.parse()?;
    let (negative, lit) = match &expr {
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr,
            ..
        }) => match &**expr {
            Expr::Lit(ExprLit { lit, .. }) => (true, lit),
            _ => {
                return Err(syn::Error::new(
                    expr.span(),
                    format!("`{key}` expects a number"),
                ));
            }
        },
        Expr::Lit(ExprLit { lit, .. }) => (false, lit),
        _ => {
            return Err(syn::Error::new(
                expr.span(),
                format!("`{key}` expects a number"),
            ));
        }
    };
    let value = match lit {
        Lit::Int(i) => i.base10_parse::<f64>()?,
        Lit::Float(f) => f.base10_parse::<f64>()?,
        other => {
            return Err(syn::Error::new(
                other.span(),
                format!("`{key}` expects a number, as in `{key} = 10`"),
            ));
        }
    };
    Ok(if negative { -value } else { value })
}

fn count(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<u64> {
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
fn example_literal(meta: &ParseNestedMeta<'_>) -> syn::Result<String> {
    let expr: Expr = meta.value()?.parse()?;
    let (negative, lit) = match &expr {
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_),
            expr: inner,
            ..
        }) => match &**inner {
            Expr::Lit(ExprLit { lit, .. }) => (true, lit.clone()),
            _ => return Err(syn::Error::new(expr.span(), "`example` expects a literal")),
        },
        Expr::Lit(ExprLit { lit, .. }) => (false, lit.clone()),
        _ => {
            return Err(syn::Error::new(
                expr.span(),
                "`example` expects a string, number or bool literal",
            ));
        }
    };
    let sign = if negative { "-" } else { "" };
    match lit {
        Lit::Str(s) if !negative => Ok(serde_json::to_string(&s.value()).unwrap_or_default()),
        Lit::Int(i) => Ok(format!("{sign}{}", i.base10_digits())),
        Lit::Float(f) => Ok(format!("{sign}{}", f.base10_digits())),
        Lit::Bool(b) if !negative => Ok(b.value.to_string()),
        other => Err(syn::Error::new(
            other.span(),
            "`example` expects a string, number or bool literal",
        )),
    }
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

/// Runs `f` over every `#[extract(...)]` item, turning parse errors into diagnostics.
fn each_extract(
    attrs: &[Attribute],
    cx: &Ctxt,
    mut f: impl FnMut(&ParseNestedMeta<'_>) -> syn::Result<()>,
) {
    for attr in attrs {
        if !attr.path().is_ident(EXTRACT) {
            continue;
        }
        if let Err(e) = attr.parse_nested_meta(|meta| {
            // An error inside one key is reported and the rest of the list still parses.
            if let Err(e) = f(&meta) {
                cx.push(e);
                skip_value(&meta)?;
            }
            Ok(())
        }) {
            cx.push(e);
        }
    }
}

pub(crate) fn container(attrs: &[Attribute], cx: &Ctxt) -> Container {
    let mut out = Container {
        description: doc(attrs),
        ..Container::default()
    };
    let mut seen = Seen(Vec::new());
    each_extract(attrs, cx, |meta| {
        let key = key_of(meta);
        let fresh = seen.first(meta, &key, cx);
        match key.as_str() {
            "description" => {
                let value = string(meta, &key)?.value();
                if fresh {
                    out.description = Some(value);
                }
            }
            "instructions" => {
                let value = string(meta, &key)?.value();
                if fresh {
                    out.instructions = Some(value);
                }
            }
            "example" => {
                let lit = string(meta, &key)?;
                if let Err(e) = serde_json::from_str::<serde_json::Value>(&lit.value()) {
                    return Err(syn::Error::new(
                        lit.span(),
                        format!("`example` on a type must be JSON text: {e}"),
                    ));
                }
                out.examples.push(lit.value());
            }
            "validate" => {
                let path = path_value(meta, &key)?;
                if fresh {
                    out.validate = Some(path);
                }
            }
            "crate" => {
                let lit = string(meta, &key)?;
                let path = lit.parse::<syn::Path>()?;
                if fresh {
                    out.krate = Some(path);
                }
            }
            "strict" => {
                if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                    return Err(meta.error("`strict` takes no value: write `#[extract(strict)]`"));
                }
                out.strict = true;
            }
            "schemars" => {
                if !meta.input.is_empty() && !meta.input.peek(syn::Token![,]) {
                    return Err(
                        meta.error("`schemars` takes no value: write `#[extract(schemars)]`")
                    );
                }
                out.schemars = Some(meta.path.span());
            }
            "range" | "length" | "pattern" | "format" => {
                return Err(syn::Error::new(
                    meta.path.span(),
                    format!("`{key}` belongs on a field, not on the type"),
                ));
            }
            _ => {
                return Err(syn::Error::new(
                    meta.path.span(),
                    format!(
                        "unknown extract attribute `{key}`; on a type the keys are {CONTAINER_KEYS}"
                    ),
                ));
            }
        }
        Ok(())
    });
    out
}

pub(crate) fn member(attrs: &[Attribute], cx: &Ctxt) -> Member {
    let mut out = Member {
        description: doc(attrs),
        ..Member::default()
    };
    let mut seen = Seen(Vec::new());
    each_extract(attrs, cx, |meta| {
        let key = key_of(meta);
        let fresh = seen.first(meta, &key, cx);
        match key.as_str() {
            "description" => {
                let value = string(meta, &key)?.value();
                if fresh {
                    out.description = Some(value);
                }
            }
            "example" => out.examples.push(example_literal(meta)?),
            "range" => {
                let range = bounds(meta, "range", cx, number)?;
                if fresh {
                    out.range = Some(range);
                }
            }
            "length" => {
                let length = bounds(meta, "length", cx, count)?;
                if fresh {
                    out.length = Some(length);
                }
            }
            "pattern" => {
                let lit = string(meta, &key)?;
                if let Err(e) = regex_syntax::Parser::new().parse(&lit.value()) {
                    return Err(syn::Error::new(
                        lit.span(),
                        format!(
                            "`pattern` is not a valid regular expression: {}",
                            first_line(&e.to_string())
                        ),
                    ));
                }
                if fresh {
                    out.pattern = Some(WithSpan {
                        value: lit.value(),
                        span: lit.span(),
                    });
                }
            }
            "format" => {
                let lit = string(meta, &key)?;
                if fresh {
                    out.format = Some(WithSpan {
                        value: lit.value(),
                        span: lit.span(),
                    });
                }
            }
            "validate" => {
                let path = path_value(meta, &key)?;
                if fresh {
                    out.validate = Some(path);
                }
            }
            "instructions" | "strict" | "schemars" | "crate" => {
                return Err(syn::Error::new(
                    meta.path.span(),
                    format!("`{key}` belongs on the type, not on a field or variant"),
                ));
            }
            _ => {
                return Err(syn::Error::new(
                    meta.path.span(),
                    format!(
                        "unknown extract attribute `{key}`; on a field the keys are {MEMBER_KEYS}"
                    ),
                ));
            }
        }
        Ok(())
    });
    out
}

/// Parses `(min = …, max = …)` with `parse` for each bound: at least one bound, and min
/// not above max. Unknown keys are reported and skipped so that one typo gives one error.
fn bounds<T: Copy + PartialOrd + std::fmt::Display>(
    meta: &ParseNestedMeta<'_>,
    what: &str,
    cx: &Ctxt,
    parse: fn(&ParseNestedMeta<'_>, &str) -> syn::Result<T>,
) -> syn::Result<WithSpan<(Option<T>, Option<T>)>> {
    let span = meta.path.span();
    let empty = {
        let fork = meta.input.fork();
        let content;
        syn::parenthesized!(content in fork);
        content.is_empty()
    };
    if empty {
        let _: proc_macro2::TokenStream = meta.input.parse()?;
        return Err(syn::Error::new(
            span,
            format!("`{what}` needs `min`, `max` or both"),
        ));
    }
    let (mut min, mut max) = (None, None);
    meta.parse_nested_meta(|inner| {
        let key = key_of(&inner);
        match key.as_str() {
            "min" => min = Some(parse(&inner, "min")?),
            "max" => max = Some(parse(&inner, "max")?),
            _ => {
                cx.push(inner.error(format!(
                    "unknown key `{key}` in `{what}`; expected `min` or `max`"
                )));
                if inner.input.peek(syn::Token![=]) {
                    let _: Expr = inner.value()?.parse()?;
                }
            }
        }
        Ok(())
    })?;
    if min.is_none() && max.is_none() {
        return Err(syn::Error::new(
            span,
            format!("`{what}` needs `min`, `max` or both"),
        ));
    }
    if let (Some(a), Some(b)) = (min, max)
        && a > b
    {
        return Err(syn::Error::new(
            span,
            format!("`{what}` has min {a} above max {b}"),
        ));
    }
    Ok(WithSpan {
        value: (min, max),
        span,
    })
}

/// regex-syntax errors span several lines with an ASCII pointer; the last line says what
/// is wrong.
fn first_line(message: &str) -> String {
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
