//! The typed tree the expansion works from: serde's view of the type (through
//! `serde_derive_internals`, so serde attributes mean exactly what serde means) joined, once,
//! with our own `#[extract]` attributes on every container, variant and field.

use serde_derive_internals::Derive;
use serde_derive_internals::ast::{self, Container, Style};

use crate::attr;
use crate::ctxt::Ctxt;

pub(crate) struct Input<'a> {
    pub(crate) serde: &'a Container<'a>,
    pub(crate) attrs: attr::Container,
    pub(crate) data: Data<'a>,
}

pub(crate) enum Data<'a> {
    Struct(Style, Vec<Field<'a>>),
    Enum(Vec<Variant<'a>>),
}

pub(crate) struct Variant<'a> {
    pub(crate) serde: &'a ast::Variant<'a>,
    pub(crate) attrs: attr::Member,
    pub(crate) fields: Vec<Field<'a>>,
}

pub(crate) struct Field<'a> {
    pub(crate) serde: &'a ast::Field<'a>,
    pub(crate) attrs: attr::Member,
}

/// serde's view of the type. `None` when there is nothing to expand: a union (our error,
/// pushed to `cx`), or serde rejected its own attributes, which serde's derive reports;
/// ours would only repeat them, so none are read.
pub(crate) fn serde_view<'a>(input: &'a syn::DeriveInput, cx: &Ctxt) -> Option<Container<'a>> {
    if let syn::Data::Union(u) = &input.data {
        cx.spanned(
            u.union_token,
            "`#[derive(Extract)]` does not support unions: a model's JSON cannot say which field is set; use an enum",
        );
        return None;
    }
    let serde_cx = serde_derive_internals::Ctxt::new();
    let serde = Container::from_ast(&serde_cx, input, Derive::Deserialize);
    serde_cx.check().ok()?;
    serde
}

impl<'a> Input<'a> {
    /// Reads our attributes beside serde's view of every item.
    pub(crate) fn from_serde(serde: &'a Container<'a>, cx: &Ctxt) -> Input<'a> {
        // The container's attributes first, so that errors are reported in source order.
        let attrs = attr::container(&serde.original.attrs, cx);
        let data = match &serde.data {
            ast::Data::Struct(style, fields) => Data::Struct(*style, Field::all(fields, cx)),
            ast::Data::Enum(variants) => Data::Enum(
                variants
                    .iter()
                    .map(|serde| Variant {
                        serde,
                        attrs: attr::member(&serde.original.attrs, cx),
                        fields: Field::all(&serde.fields, cx),
                    })
                    .collect(),
            ),
        };
        Input { serde, attrs, data }
    }

    /// Every field: a struct's, or those of every variant.
    pub(crate) fn fields(&self) -> impl Iterator<Item = &Field<'a>> {
        let (fields, variants) = match &self.data {
            Data::Struct(_, fields) => (fields.as_slice(), &[][..]),
            Data::Enum(variants) => (&[][..], variants.as_slice()),
        };
        fields.iter().chain(variants.iter().flat_map(|v| &v.fields))
    }

    pub(crate) fn is_generic(&self) -> bool {
        self.serde.generics.type_params().next().is_some()
            || self.serde.generics.const_params().next().is_some()
    }
}

impl<'a> Field<'a> {
    fn all(fields: &'a [ast::Field<'a>], cx: &Ctxt) -> Vec<Field<'a>> {
        fields
            .iter()
            .map(|serde| Field {
                serde,
                attrs: attr::member(&serde.original.attrs, cx),
            })
            .collect()
    }
}
