//! What is emitted when the derive fails: the errors, and beside them stub impls, so the
//! user sees the real error and not a cascade of "`Extract` is not implemented" at every
//! use site (thiserror's `fallback.rs`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{DeriveInput, LitStr, parse_quote};

use crate::attr;

pub(crate) fn expand(input: &DeriveInput, errors: syn::Error) -> TokenStream {
    let mut tokens = errors.into_compile_error();
    tokens.extend(stubs(input));
    tokens
}

fn stubs(input: &DeriveInput) -> TokenStream {
    if matches!(input.data, syn::Data::Union(_)) || input.generics.lifetimes().next().is_some() {
        return TokenStream::new();
    }
    let (reuse_schemars, krate) = options(input);
    let krate = krate.unwrap_or_else(|| parse_quote!(::factum));
    let private = quote!(#krate::__private);
    let ident = &input.ident;
    let (impl_g, ty_g, where_c) = input.generics.split_for_impl();
    let name = ident.to_string();
    let schema = (!reuse_schemars).then(|| {
        quote! {
            #[automatically_derived]
            impl #impl_g #private::JsonSchema for #ident #ty_g #where_c {
                fn schema_name() -> #private::Cow<'static, str> { #private::Cow::Borrowed(#name) }
                fn json_schema(_: &mut #private::SchemaGenerator) -> #private::JsonSchemaDoc {
                    ::core::default::Default::default()
                }
            }
        }
    });
    quote! {
        #schema
        #[automatically_derived]
        impl #impl_g #krate::Extract for #ident #ty_g #where_c {
            type Partial = ();
            fn partial_from(_: &#krate::stream::Node) -> ::core::option::Option<()> {
                ::core::option::Option::None
            }
        }
    }
}

/// The two container keys the stubs depend on, `schemars` and `crate`, read again and
/// leniently: their errors, if any, are among those already reported.
fn options(input: &DeriveInput) -> (bool, Option<syn::Path>) {
    let mut schemars = false;
    let mut krate = None;
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident(attr::EXTRACT))
    {
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident(attr::SCHEMARS) {
                schemars = true;
            } else if meta.path.is_ident(attr::CRATE) && meta.input.peek(syn::Token![=]) {
                let lit: LitStr = meta.value()?.parse()?;
                krate = lit.parse().ok();
            } else {
                attr::skip_value(&meta)?;
            }
            Ok(())
        });
    }
    (schemars, krate)
}
