//! Parsing of our own `#[extract(...)]` attributes and of doc comments.
//!
//! Serde's attributes are serde's: they are read through `serde_derive_internals`, never
//! here. Every problem is pushed to the [`Ctxt`] so that one compile reports all of them.
//! Each key fills one [`Attr`] slot, which reports a second setting itself (serde's
//! `internals/attr.rs`); the key names are constants (serde's `symbol.rs`).

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ExprUnary, Lit, LitStr, UnOp};

use crate::ctxt::Ctxt;

/// The attribute our keys live in.
pub(crate) const EXTRACT: &str = "extract";

pub(crate) const DESCRIPTION: &str = "description";
pub(crate) const INSTRUCTIONS: &str = "instructions";
pub(crate) const EXAMPLE: &str = "example";
pub(crate) const VALIDATE: &str = "validate";
pub(crate) const STRICT: &str = "strict";
pub(crate) const SCHEMARS: &str = "schemars";
pub(crate) const CRATE: &str = "crate";
pub(crate) const RANGE: &str = "range";
pub(crate) const LENGTH: &str = "length";
pub(crate) const PATTERN: &str = "pattern";
pub(crate) const FORMAT: &str = "format";
const MIN: &str = "min";
const MAX: &str = "max";

/// The keys of `#[extract(...)]` on a struct or enum, in the order the docs list them.
const CONTAINER_KEYS: &[&str] = &[
    DESCRIPTION,
    INSTRUCTIONS,
    EXAMPLE,
    VALIDATE,
    STRICT,
    SCHEMARS,
    CRATE,
];
/// The keys of `#[extract(...)]` on a field or variant.
const MEMBER_KEYS: &[&str] = &[
    DESCRIPTION,
    EXAMPLE,
    RANGE,
    LENGTH,
    PATTERN,
    FORMAT,
    VALIDATE,
];

/// A value with the span of the attribute that set it, for later diagnostics.
pub(crate) struct WithSpan<T> {
    pub(crate) value: T,
    pub(crate) span: Span,
}

/// Container attributes: `#[extract(...)]` on the struct or enum.
pub(crate) struct Container {
    pub(crate) description: Option<String>,
    pub(crate) instructions: Option<String>,
    pub(crate) examples: Vec<String>,
    pub(crate) validate: Option<syn::Path>,
    pub(crate) krate: Option<syn::Path>,
    pub(crate) strict: bool,
    pub(crate) schemars: bool,
}

/// Field and variant attributes.
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
        [
            (RANGE, self.range.as_ref().map(|r| r.span)),
            (LENGTH, self.length.as_ref().map(|l| l.span)),
            (PATTERN, self.pattern.as_ref().map(|p| p.span)),
            (FORMAT, self.format.as_ref().map(|f| f.span)),
        ]
        .into_iter()
        .find_map(|(key, span)| Some((key, span?)))
    }
}

/// One attribute's slot: set at most once, and a second setting is reported at its key.
struct Attr<'c, T> {
    cx: &'c Ctxt,
    name: &'static str,
    value: Option<T>,
}

impl<'c, T> Attr<'c, T> {
    fn none(cx: &'c Ctxt, name: &'static str) -> Self {
        Attr {
            cx,
            name,
            value: None,
        }
    }

    /// Sets the value; `span` is the key's, where a duplicate is reported.
    fn set(&mut self, span: Span, value: T) {
        if self.value.is_some() {
            self.cx
                .error(span, format!("duplicate extract attribute `{}`", self.name));
        } else {
            self.value = Some(value);
        }
    }

    fn get(self) -> Option<T> {
        self.value
    }
}

/// Where an attribute list sits, for the messages about keys that belong elsewhere.
#[derive(Clone, Copy)]
enum Place {
    Type,
    Member,
}

impl Place {
    /// A key that is valid here but was met elsewhere, or unknown everywhere.
    fn misplaced(self, meta: &ParseNestedMeta<'_>, key: &str) -> syn::Error {
        let (elsewhere, belongs, here, keys) = match self {
            Place::Type => (
                MEMBER_KEYS,
                "belongs on a field, not on the type",
                "a type",
                CONTAINER_KEYS,
            ),
            Place::Member => (
                CONTAINER_KEYS,
                "belongs on the type, not on a field or variant",
                "a field",
                MEMBER_KEYS,
            ),
        };
        let message = if elsewhere.contains(&key) {
            format!("`{key}` {belongs}")
        } else {
            let keys: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
            format!(
                "unknown extract attribute `{key}`; on {here} the keys are {}",
                keys.join(", ")
            )
        };
        syn::Error::new(meta.path.span(), message)
    }
}

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
fn number(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<f64> {
    let expects = format!("`{key}` expects a number, as in `{key} = 10`");
    let (negative, lit) = signed_literal(meta, &expects)?;
    let value = match &lit {
        Lit::Int(i) => i.base10_parse::<f64>()?,
        Lit::Float(f) => f.base10_parse::<f64>()?,
        other => return Err(syn::Error::new(other.span(), expects)),
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
fn flag(meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<()> {
    if meta.input.is_empty() || meta.input.peek(syn::Token![,]) {
        Ok(())
    } else {
        Err(meta.error(format!("`{key}` takes no value: write `#[extract({key})]`")))
    }
}

/// A container example: JSON text, checked here so that a typo fails the build.
fn json_example(meta: &ParseNestedMeta<'_>) -> syn::Result<String> {
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
fn pattern(meta: &ParseNestedMeta<'_>) -> syn::Result<WithSpan<String>> {
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

/// Runs `f` over every `#[extract(...)]` item with its key, turning parse errors into
/// diagnostics.
fn each_extract(
    attrs: &[Attribute],
    cx: &Ctxt,
    mut f: impl FnMut(&ParseNestedMeta<'_>, &str) -> syn::Result<()>,
) {
    for attr in attrs {
        if !attr.path().is_ident(EXTRACT) {
            continue;
        }
        if let Err(e) = attr.parse_nested_meta(|meta| {
            // An error inside one key is reported and the rest of the list still parses.
            if let Err(e) = f(&meta, &key_of(&meta)) {
                cx.push(e);
                skip_value(&meta)?;
            }
            Ok(())
        }) {
            cx.push(e);
        }
    }
}

/// The slots of the container's keys, filled by [`container`].
struct ContainerSlots<'c> {
    description: Attr<'c, String>,
    instructions: Attr<'c, String>,
    examples: Vec<String>,
    validate: Attr<'c, syn::Path>,
    krate: Attr<'c, syn::Path>,
    strict: Attr<'c, ()>,
    schemars: Attr<'c, ()>,
}

impl ContainerSlots<'_> {
    fn read(&mut self, meta: &ParseNestedMeta<'_>, key: &str) -> syn::Result<()> {
        let span = meta.path.span();
        match key {
            DESCRIPTION => self.description.set(span, string(meta, key)?.value()),
            INSTRUCTIONS => self.instructions.set(span, string(meta, key)?.value()),
            EXAMPLE => self.examples.push(json_example(meta)?),
            VALIDATE => self.validate.set(span, path_value(meta, key)?),
            CRATE => self.krate.set(span, string(meta, key)?.parse()?),
            STRICT => self.strict.set(span, flag(meta, key)?),
            SCHEMARS => self.schemars.set(span, flag(meta, key)?),
            _ => return Err(Place::Type.misplaced(meta, key)),
        }
        Ok(())
    }
}

pub(crate) fn container(attrs: &[Attribute], cx: &Ctxt) -> Container {
    let mut slots = ContainerSlots {
        description: Attr::none(cx, DESCRIPTION),
        instructions: Attr::none(cx, INSTRUCTIONS),
        examples: Vec::new(),
        validate: Attr::none(cx, VALIDATE),
        krate: Attr::none(cx, CRATE),
        strict: Attr::none(cx, STRICT),
        schemars: Attr::none(cx, SCHEMARS),
    };
    each_extract(attrs, cx, |meta, key| slots.read(meta, key));
    Container {
        description: slots.description.get().or_else(|| doc(attrs)),
        instructions: slots.instructions.get(),
        examples: slots.examples,
        validate: slots.validate.get(),
        krate: slots.krate.get(),
        strict: slots.strict.get().is_some(),
        schemars: slots.schemars.get().is_some(),
    }
}

/// The slots of a field's or variant's keys, filled by [`member`].
struct MemberSlots<'c> {
    description: Attr<'c, String>,
    examples: Vec<String>,
    range: Attr<'c, WithSpan<(Option<f64>, Option<f64>)>>,
    length: Attr<'c, WithSpan<(Option<u64>, Option<u64>)>>,
    pattern: Attr<'c, WithSpan<String>>,
    format: Attr<'c, WithSpan<String>>,
    validate: Attr<'c, syn::Path>,
}

impl MemberSlots<'_> {
    fn read(&mut self, meta: &ParseNestedMeta<'_>, key: &str, cx: &Ctxt) -> syn::Result<()> {
        let span = meta.path.span();
        match key {
            DESCRIPTION => self.description.set(span, string(meta, key)?.value()),
            EXAMPLE => self.examples.push(example_literal(meta)?),
            RANGE => self.range.set(span, bounds(meta, RANGE, cx, number)?),
            LENGTH => self.length.set(span, bounds(meta, LENGTH, cx, count)?),
            PATTERN => self.pattern.set(span, pattern(meta)?),
            FORMAT => {
                let lit = string(meta, key)?;
                self.format.set(
                    span,
                    WithSpan {
                        value: lit.value(),
                        span: lit.span(),
                    },
                );
            }
            VALIDATE => self.validate.set(span, path_value(meta, key)?),
            _ => return Err(Place::Member.misplaced(meta, key)),
        }
        Ok(())
    }
}

pub(crate) fn member(attrs: &[Attribute], cx: &Ctxt) -> Member {
    let mut slots = MemberSlots {
        description: Attr::none(cx, DESCRIPTION),
        examples: Vec::new(),
        range: Attr::none(cx, RANGE),
        length: Attr::none(cx, LENGTH),
        pattern: Attr::none(cx, PATTERN),
        format: Attr::none(cx, FORMAT),
        validate: Attr::none(cx, VALIDATE),
    };
    each_extract(attrs, cx, |meta, key| slots.read(meta, key, cx));
    Member {
        description: slots.description.get().or_else(|| doc(attrs)),
        examples: slots.examples,
        range: slots.range.get(),
        length: slots.length.get(),
        pattern: slots.pattern.get(),
        format: slots.format.get(),
        validate: slots.validate.get(),
    }
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
fn regex_error_summary(message: &str) -> String {
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
