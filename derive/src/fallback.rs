//! What is emitted when the derive fails: stub impls beside the `compile_error!`s, so
//! the user sees the real error and not a cascade of "`Extract` is not implemented" at
//! every use site (thiserror's `fallback.rs`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::parse_quote;

/// What is emitted beside the `compile_error!`s: stub impls, so the user sees the real
/// error and not a cascade of "`Extract` is not implemented" at every use site.
pub(crate) fn expand(
    input: &syn::DeriveInput,
    reuse_schemars: bool,
    krate: Option<&syn::Path>,
) -> TokenStream {
    let krate = krate.cloned().unwrap_or_else(|| parse_quote!(::factum));
    let p = quote!(#krate::__private);
    let ident = &input.ident;
    if matches!(input.data, syn::Data::Union(_)) || input.generics.lifetimes().next().is_some() {
        return TokenStream::new();
    }
    let (impl_g, ty_g, where_c) = input.generics.split_for_impl();
    let name = ident.to_string();
    let schema = if reuse_schemars {
        TokenStream::new()
    } else {
        quote! {
            #[automatically_derived]
            impl #impl_g #p::JsonSchema for #ident #ty_g #where_c {
                fn schema_name() -> #p::Cow<'static, str> { #p::Cow::Borrowed(#name) }
                fn json_schema(_: &mut #p::SchemaGenerator) -> #p::JsonSchemaDoc {
                    ::core::default::Default::default()
                }
            }
        }
    };
    quote! {
        #schema
        #[automatically_derived]
        impl #impl_g #krate::Extract for #ident #ty_g #where_c {}
    }
}
