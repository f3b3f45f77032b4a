//! The typed tree the expansion works from: serde's view of the type (through
//! `serde_derive_internals`, so serde attributes mean exactly what serde means) with our
//! own `#[extract]` attributes beside every container, variant and field.

use serde_derive_internals::ast::{Container, Data};
use serde_derive_internals::{Ctxt, Derive};

use crate::attr;
use crate::ctxt::Errors;

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

/// Why there is nothing to expand.
pub(crate) enum Failure {
    /// serde rejected its own attributes; serde's derive reports that, not us.
    Serde,
    /// Our errors, already in `errors`.
    Ours,
}

pub(crate) fn parse<'a>(
    input: &'a syn::DeriveInput,
    errors: &Errors,
) -> Result<Input<'a>, Failure> {
    if let syn::Data::Union(u) = &input.data {
        errors.spanned(
            u.union_token,
            "`#[derive(Extract)]` does not support unions: a model's JSON cannot say which field is set; use an enum",
        );
        return Err(Failure::Ours);
    }
    let attrs = attr::container(&input.attrs, errors);
    let cx = Ctxt::new();
    let serde = Container::from_ast(&cx, input, Derive::Deserialize);
    if cx.check().is_err() {
        return Err(Failure::Serde);
    }
    let Some(serde) = serde else {
        return Err(Failure::Serde);
    };
    let members = match &serde.data {
        Data::Struct(_, fields) => Members::Struct(
            fields
                .iter()
                .map(|f| attr::member(&f.original.attrs, errors))
                .collect(),
        ),
        Data::Enum(variants) => Members::Enum(
            variants
                .iter()
                .map(|v| {
                    let own = attr::member(&v.original.attrs, errors);
                    let fields = v
                        .fields
                        .iter()
                        .map(|f| attr::member(&f.original.attrs, errors))
                        .collect();
                    (own, fields)
                })
                .collect(),
        ),
    };
    Ok(Input {
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
