//! Cross-item rules, each stated above its check. Every violation is a spanned error, and
//! all of them are reported in one compile.

use serde_derive_internals::ast::Style;
use syn::spanned::Spanned;

use crate::ast::{Data, Field, Input};
use crate::attr::Member;
use crate::ctxt::Ctxt;
use crate::ty::{self, Kind};

pub(crate) fn check(input: &Input<'_>, cx: &Ctxt) {
    lifetimes(input, cx);
    match &input.data {
        Data::Struct(style, fields) => {
            tuple_arity(
                *style,
                fields.len(),
                &input.serde.ident,
                "tuple structs",
                cx,
            );
            fields_fit(input, fields, cx);
        }
        Data::Enum(variants) => {
            for variant in variants {
                tuple_arity(
                    variant.serde.style,
                    variant.fields.len(),
                    &variant.serde.ident,
                    "tuple variants",
                    cx,
                );
                variant_keys(&variant.attrs, cx);
                fields_fit(input, &variant.fields, cx);
            }
        }
    }
}

fn fields_fit(input: &Input<'_>, fields: &[Field<'_>], cx: &Ctxt) {
    for field in fields {
        member_types(field, cx);
        schemars_reuse(input, &field.attrs, cx);
    }
}

/// An extracted value is deserialized from an owned reply and cached for the whole
/// process, so it cannot borrow: no lifetime parameters.
fn lifetimes(input: &Input<'_>, cx: &Ctxt) {
    if let Some(lt) = input.serde.generics.lifetimes().next() {
        cx.spanned(
            lt,
            "`#[derive(Extract)]` types own their data: lifetime parameters are not supported (use `String`, `Box<str>`, `Arc<str>` or `Cow<'static, str>` instead of `&str` or `Cow<'a, str>`)",
        );
    }
}

/// A JSON array of positional values has no field names or docs for the model to follow,
/// and neither OpenAI strict mode nor llama.cpp handles tuple schemas well: only newtypes.
fn tuple_arity(style: Style, len: usize, ident: &syn::Ident, what: &str, cx: &Ctxt) {
    if matches!(style, Style::Tuple) && len > 1 {
        cx.spanned(
            ident,
            format!("`#[derive(Extract)]` does not support {what} with more than one field: a model cannot tell positional values apart; use named fields"),
        );
    }
}

/// Constraints must fit the field's type: `range` on numbers, `length` on strings and
/// lists, `unique` on lists, `pattern`, `format` and `allow_empty` on strings. Types the derive cannot see through (aliases,
/// user types) are accepted and checked when the schema is validated.
fn member_types(field: &Field<'_>, cx: &Ctxt) {
    let attrs = &field.attrs;
    let kind = ty::kind(field.serde.ty);
    let name = field_name(field);
    static_borrow(field.serde.ty, &name, cx);
    if let Some(range) = &attrs.range
        && !matches!(kind, Kind::Number | Kind::Unknown)
    {
        cx.error(
            range.span,
            format!(
                "`range` applies to numbers, but {name} is {}",
                kind.describe()
            ),
        );
    }
    if let Some(length) = &attrs.length
        && !matches!(kind, Kind::String | Kind::Array | Kind::Unknown)
    {
        cx.error(
            length.span,
            format!(
                "`length` applies to strings and lists, but {name} is {}",
                kind.describe()
            ),
        );
    }
    list_keys(attrs, kind, &name, cx);
    string_keys(attrs, kind, &name, cx);
    grounding_keys(attrs, field, &name, cx);
}

/// `grounded` only on quotable values, and never with `inferred`.
fn grounding_keys(attrs: &Member, field: &Field<'_>, name: &str, cx: &Ctxt) {
    if let Some(span) = attrs.grounded
        && !ty::is_quotable(field.serde.ty)
    {
        cx.error(
            span,
            format!(
                "`grounded` applies to strings and lists of strings (values quoted from the text), but {name} is {}",
                ty::describe_quoted(field.serde.ty)
            ),
        );
    }
    if let (Some(_), Some(span)) = (attrs.grounded, attrs.inferred) {
        cx.error(
            span,
            format!(
                "{name} cannot be both `grounded` (quoted from the text) and `inferred` (derived, never checked against the text); keep one"
            ),
        );
    }
}

/// A value is read from a reply that is dropped once it is read, so a field cannot borrow
/// from it, even for `'static`: serde would refuse `&'static str` with a lifetime error
/// deep in its expansion. Said here, with the owned types that work.
fn static_borrow(ty: &syn::Type, name: &str, cx: &Ctxt) {
    if let Some(reference) = ty::static_reference(ty) {
        cx.spanned(
            reference,
            format!("{name} borrows (`&'static`), but an extracted value owns its data: use `String`, `Box<str>`, `Arc<str>` or `Cow<'static, str>` for text, `Vec<T>` for a list"),
        );
    }
}

/// `unique` says a list's items must not repeat.
fn list_keys(attrs: &Member, kind: Kind, name: &str, cx: &Ctxt) {
    if let Some(span) = attrs.unique
        && !matches!(kind, Kind::Array | Kind::Unknown)
    {
        cx.error(
            span,
            format!(
                "`unique` applies to lists (`Vec<T>`, `Option<Vec<T>>`), but {name} is {}",
                kind.describe()
            ),
        );
    }
}

/// `pattern`, `format` and `allow_empty` say what a string looks like.
fn string_keys(attrs: &Member, kind: Kind, name: &str, cx: &Ctxt) {
    let spans = [
        ("pattern", attrs.pattern.as_ref().map(|p| p.span)),
        ("format", attrs.format.as_ref().map(|f| f.span)),
        ("allow_empty", attrs.allow_empty),
    ];
    for (key, span) in spans {
        if let Some(span) = span
            && !matches!(kind, Kind::String | Kind::Unknown)
        {
            cx.error(
                span,
                format!(
                    "`{key}` applies to strings, but {name} is {}",
                    kind.describe()
                ),
            );
        }
    }
}

fn field_name(field: &Field<'_>) -> String {
    match &field.serde.member {
        syn::Member::Named(ident) => format!("field `{ident}`"),
        syn::Member::Unnamed(_) => {
            let ty = field.serde.ty;
            format!(
                "the field of type `{}`",
                quote::quote!(#ty).to_string().replace(' ', "")
            )
        }
    }
}

/// A variant is a choice, not a value: value constraints go on its fields.
fn variant_keys(attrs: &Member, cx: &Ctxt) {
    if let Some((key, span)) = attrs.field_only_span() {
        cx.error(
            span,
            format!(
                "`{key}` belongs on a field; on a variant only `description` and `example` apply"
            ),
        );
    }
    if let Some(path) = &attrs.validate {
        cx.error(
            path.span(),
            "`validate` belongs on a field or on the type, not on a variant",
        );
    }
}

/// With `#[extract(schemars)]` the schema comes from the type's own `JsonSchema` impl, so
/// our schema constraints would be silently ignored: reject them.
fn schemars_reuse(input: &Input<'_>, attrs: &Member, cx: &Ctxt) {
    if input.attrs.schemars
        && let Some((key, span)) = attrs.field_only_span()
    {
        cx.error(
            span,
            format!("`{key}` has no effect with `#[extract(schemars)]`: the schema comes from the `JsonSchema` impl; use `#[schemars({key} …)]`"),
        );
    }
}
