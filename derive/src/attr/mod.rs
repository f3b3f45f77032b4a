//! Parsing of our own `#[extract(...)]` attributes and of doc comments.
//!
//! Serde's attributes are serde's: they are read through `serde_derive_internals`, never
//! here. Every problem is pushed to the [`Ctxt`] so that one compile reports all of them.
//! Each key fills one [`Attr`] slot, which reports a second setting itself (serde's
//! `internals/attr.rs`); the key names are constants (serde's `symbol.rs`). The values
//! themselves are read in `value`.

mod symbol;
mod value;

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, Lit};

use crate::ctxt::Ctxt;
pub(crate) use symbol::*;
pub(crate) use value::{Stream, WithSpan, skip_value};
use value::{
    bounds, count, example_literal, flag, json_example, key_of, number, path_value, pattern,
    stream, string,
};

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
    /// `allow_empty`: a required `String` may be `""` (no `minLength: 1`).
    pub(crate) allow_empty: Option<Span>,
    pub(crate) validate: Option<syn::Path>,
    pub(crate) stream: Option<WithSpan<Stream>>,
    /// `grounded`: the value must be quoted from the text.
    pub(crate) grounded: Option<Span>,
    /// `unique`: a list whose items must not repeat (`uniqueItems`).
    pub(crate) unique: Option<Span>,
    /// `inferred`: the value is derived, not quoted; default grounding never checks it.
    pub(crate) inferred: Option<Span>,
}

impl Member {
    /// The keys that only make sense on a field, with the span of the first one set.
    pub(crate) fn field_only_span(&self) -> Option<(&'static str, Span)> {
        [
            (RANGE, self.range.as_ref().map(|r| r.span)),
            (LENGTH, self.length.as_ref().map(|l| l.span)),
            (UNIQUE, self.unique),
            (PATTERN, self.pattern.as_ref().map(|p| p.span)),
            (FORMAT, self.format.as_ref().map(|f| f.span)),
            (ALLOW_EMPTY, self.allow_empty),
            (STREAM, self.stream.as_ref().map(|s| s.span)),
            (GROUNDED, self.grounded),
            (INFERRED, self.inferred),
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
    allow_empty: Attr<'c, Span>,
    validate: Attr<'c, syn::Path>,
    stream: Attr<'c, WithSpan<Stream>>,
    grounded: Attr<'c, Span>,
    unique: Attr<'c, Span>,
    inferred: Attr<'c, Span>,
}

impl<'c> MemberSlots<'c> {
    /// The slot of a key that is a bare flag.
    fn flag_slot(&mut self, key: &str) -> &mut Attr<'c, Span> {
        match key {
            ALLOW_EMPTY => &mut self.allow_empty,
            GROUNDED => &mut self.grounded,
            UNIQUE => &mut self.unique,
            _ => &mut self.inferred,
        }
    }

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
            ALLOW_EMPTY | GROUNDED | UNIQUE | INFERRED => {
                flag(meta, key)?;
                self.flag_slot(key).set(span, span);
            }
            VALIDATE => self.validate.set(span, path_value(meta, key)?),
            STREAM => {
                if let Some(value) = stream(meta, cx)? {
                    self.stream.set(span, WithSpan { value, span });
                }
            }
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
        allow_empty: Attr::none(cx, ALLOW_EMPTY),
        validate: Attr::none(cx, VALIDATE),
        stream: Attr::none(cx, STREAM),
        grounded: Attr::none(cx, GROUNDED),
        unique: Attr::none(cx, UNIQUE),
        inferred: Attr::none(cx, INFERRED),
    };
    each_extract(attrs, cx, |meta, key| slots.read(meta, key, cx));
    Member {
        description: slots.description.get().or_else(|| doc(attrs)),
        examples: slots.examples,
        range: slots.range.get(),
        length: slots.length.get(),
        pattern: slots.pattern.get(),
        format: slots.format.get(),
        allow_empty: slots.allow_empty.get(),
        validate: slots.validate.get(),
        stream: slots.stream.get(),
        grounded: slots.grounded.get(),
        unique: slots.unique.get(),
        inferred: slots.inferred.get(),
    }
}
