//! `#[extract(strict)]`: the `StrictSchema` marker impl and a compile-time proof that
//! every field type is expressible in OpenAI strict mode.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::Type;
use syn::spanned::Spanned;

use super::Ctx;

impl Ctx<'_> {
    pub(super) fn strict_impl(&self) -> TokenStream {
        let p = &self.p;
        let ident = self.ident();
        let generics = self.bounded(&[quote!(#p::StrictSchema)]);
        let (impl_g, ty_g, where_c) = generics.split_for_impl();
        let types: Vec<&Type> = self
            .input
            .serde
            .data
            .all_fields()
            .filter(|f| !f.attrs.skip_deserializing())
            .map(|f| f.ty)
            .collect();
        let asserts = types
            .iter()
            .map(|ty| quote_spanned!(ty.span()=> #p::assert_strict::<#ty>();));
        quote! {
            #[automatically_derived]
            impl #impl_g #p::StrictSchema for #ident #ty_g #where_c {}

            const _: () = {
                #[allow(dead_code, clippy::extra_unused_type_parameters)]
                fn __factum_strict #impl_g () #where_c {
                    #(#asserts)*
                }
            };
        }
    }
}
