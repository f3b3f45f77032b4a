//! The typed tree the expansion works from: serde's view of the type (through
//! `serde_derive_internals`, so serde attributes mean exactly what serde means) with our
//! own `#[extract]` attributes beside every container, variant and field.

use serde_derive_internals::Derive;
use serde_derive_internals::ast::{Container, Data};

use crate::attr;
use crate::ctxt::Ctxt;

pub(crate) struct Input<'a> {
    pub(crate) serde: Container<'a>,
    pub(crate) attrs: attr::Container,
    /// Our attributes per field (structs) or per variant, index-aligned with serde's.
    pub(crate) members: Members,
}

pub(crate) enum Members {
    Struct(Vec<attr::Member>),
    Enum(Vec<(attr::Member, Vec<attr::Member>)>),
}

/// Reads the type: serde's view first, then our attributes beside it. `None` when there is
/// nothing to expand: a union (our error, in `cx`), or serde rejected its own attributes,
/// which serde's derive reports; adding ours would only repeat them, so none are read.
pub(crate) fn parse<'a>(input: &'a syn::DeriveInput, cx: &Ctxt) -> Option<Input<'a>> {
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
    let serde = serde?;
    let attrs = attr::container(&input.attrs, cx);
    let members = match &serde.data {
        Data::Struct(_, fields) => Members::Struct(
            fields
                .iter()
                .map(|f| attr::member(&f.original.attrs, cx))
                .collect(),
        ),
        Data::Enum(variants) => Members::Enum(
            variants
                .iter()
                .map(|v| {
                    let own = attr::member(&v.original.attrs, cx);
                    let fields = v
                        .fields
                        .iter()
                        .map(|f| attr::member(&f.original.attrs, cx))
                        .collect();
                    (own, fields)
                })
                .collect(),
        ),
    };
    Some(Input {
        serde,
        attrs,
        members,
    })
}

impl Input<'_> {
    pub(crate) fn is_generic(&self) -> bool {
        self.serde.generics.type_params().next().is_some()
            || self.serde.generics.const_params().next().is_some()
    }
}
