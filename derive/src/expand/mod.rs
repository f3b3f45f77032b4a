//! Code generation: the `Extract`, `JsonSchema` and strict-marker impls of one type, and
//! its partial type.
//! Every emitted path is absolute (`::core::…`, `<factum>::__private::…`) so the expansion
//! never depends on what the user's module has in scope. The phases of the output live
//! apart: `schema` (the `JsonSchema` impl), `validate` (the `Extract` impl and its checks),
//! `partial` (the partial type and how it is read) and `strict` (`#[extract(strict)]`).

mod partial;
mod schema;
mod strict;
mod validate;

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Ident, parse_quote};

use crate::ast::Input;

pub(crate) struct Codegen<'a> {
    pub(crate) input: &'a Input<'a>,
    /// `<factum>::__private`, where the support code of the expansion lives.
    pub(crate) private: TokenStream,
    /// The path to factum: `::factum`, or `#[extract(crate = "…")]`.
    pub(crate) krate: syn::Path,
}

pub(crate) fn expand(input: &Input<'_>) -> TokenStream {
    let krate = input
        .attrs
        .krate
        .clone()
        .unwrap_or_else(|| parse_quote!(::factum));
    let cx = Codegen {
        input,
        private: quote!(#krate::__private),
        krate,
    };
    let json_schema = if input.attrs.schemars {
        TokenStream::new()
    } else {
        cx.json_schema_impl()
    };
    // The partial first: its proof reports a field type without a partial form before
    // the impls that need one do.
    let partial = cx.partial_type();
    let extract = cx.extract_impl();
    let strict = if input.attrs.strict {
        cx.strict_impl()
    } else {
        TokenStream::new()
    };
    quote! {
        #json_schema
        #partial
        #extract
        #strict
    }
}

impl Codegen<'_> {
    pub(crate) fn ident(&self) -> &Ident {
        &self.input.serde.ident
    }

    pub(crate) fn type_params(&self) -> Vec<&Ident> {
        self.input
            .serde
            .generics
            .type_params()
            .map(|t| &t.ident)
            .collect()
    }

    /// The type's generics with `bound` added to every type parameter.
    pub(crate) fn bounded(&self, bounds: &[TokenStream]) -> syn::Generics {
        let mut generics = self.input.serde.generics.clone();
        for param in generics.type_params_mut() {
            for bound in bounds {
                param.bounds.push(parse_quote!(#bound));
            }
        }
        generics
    }
}

pub(crate) fn opt(value: Option<TokenStream>) -> TokenStream {
    if let Some(v) = value {
        quote!(::core::option::Option::Some(#v))
    } else {
        quote!(::core::option::Option::None)
    }
}

pub(crate) fn opt_str(value: Option<&str>) -> TokenStream {
    opt(value.map(|s| quote!(#s)))
}
