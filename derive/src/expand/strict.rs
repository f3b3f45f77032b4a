//! `#[extract(strict)]`: the `StrictSchema` marker impl and a compile-time proof that
//! every field type is expressible in OpenAI strict mode.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Type;
use syn::spanned::Spanned;

use super::Codegen;

impl Codegen<'_> {
    pub(super) fn strict_impl(&self) -> TokenStream {
        let private = &self.private;
        let ident = self.ident();
        let generics = self.bounded(&[quote!(#private::StrictSchema)]);
        let (impl_g, ty_g, where_c) = generics.split_for_impl();
        let types: Vec<&Type> = self
            .input
            .fields()
            .filter(|f| !f.serde.attrs.skip_deserializing())
            .map(|f| f.serde.ty)
            .collect();
        let asserts = types
            .iter()
            .map(|ty| quote_spanned!(ty.span()=> #private::assert_strict::<#ty>();));
        quote! {
            #[automatically_derived]
            impl #impl_g #private::StrictSchema for #ident #ty_g #where_c {}

            const _: () = {
                #[allow(dead_code, clippy::extra_unused_type_parameters, reason = "a compile-time proof, never called; it names the type's parameters to bound them")]
                fn __factum_strict #impl_g () #where_c {
                    #(#asserts)*
                }
            };
        }
    }
}
