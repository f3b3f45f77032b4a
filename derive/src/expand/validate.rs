//! The `Extract` impl: instructions, the cached schema, and `validate_into`, which runs
//! the user's validators and recurses into nested `Extract` values with their JSON paths.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use serde_derive_internals::ast::{Data, Field, Style, Variant};
use serde_derive_internals::attr::TagType;
use syn::spanned::Spanned;
use syn::{Ident, Type, parse_quote};

use super::{Codegen, opt_str};
use crate::ast::Members;
use crate::attr::Member;
use crate::ty::{self, Kind};

impl Codegen<'_> {
    pub(super) fn extract_impl(&self) -> TokenStream {
        let private = &self.private;
        let krate = &self.krate;
        let ident = self.ident();
        let generics = self.bounded(&[quote!(#private::JsonSchema), quote!('static)]);
        let (impl_g, ty_g, where_c) = generics.split_for_impl();
        let mut where_c = where_c.cloned().unwrap_or_else(|| parse_quote!(where));
        where_c
            .predicates
            .push(parse_quote!(#ident #ty_g: #private::serde::de::DeserializeOwned));
        let instructions = opt_str(self.input.attrs.instructions.as_deref());
        // A `static` in a generic impl would be shared by every instantiation, so only
        // non-generic types get their own cell; generic ones use the shared map.
        let schema_fn = (!self.input.is_generic()).then(|| {
            quote! {
                fn schema() -> &'static #krate::Schema {
                    static __CELL: ::std::sync::OnceLock<#krate::Schema> = ::std::sync::OnceLock::new();
                    #private::static_schema::<Self>(&__CELL)
                }
            }
        });
        let validate = self.validate_body();
        quote! {
            #[automatically_derived]
            impl #impl_g #krate::Extract for #ident #ty_g #where_c {
                const INSTRUCTIONS: ::core::option::Option<&'static str> = #instructions;
                #schema_fn
                fn validate_into(
                    &self,
                    __path: &mut ::std::string::String,
                    __out: &mut ::std::vec::Vec<#krate::Violation>,
                ) {
                    #validate
                }
            }
        }
    }

    fn validate_body(&self) -> TokenStream {
        let private = &self.private;
        let container = self.input.attrs.validate.as_ref().map(|f| {
            quote_spanned!(f.span()=> #private::check(#f(self), __path, ::core::option::Option::None, __out);)
        });
        let fields = match (&self.input.serde.data, &self.input.members) {
            (Data::Struct(style, fields), Members::Struct(attrs)) => {
                let keyed = matches!(style, Style::Struct);
                let steps = fields.iter().zip(attrs).map(|(field, attrs)| {
                    let access = match &field.member {
                        syn::Member::Named(n) => quote!(&self.#n),
                        syn::Member::Unnamed(idx) => quote!(&self.#idx),
                    };
                    self.field_checks(field, attrs, &access, keyed)
                });
                quote!(#(#steps)*)
            }
            (Data::Enum(variants), Members::Enum(attrs)) => self.enum_checks(variants, attrs),
            _ => TokenStream::new(),
        };
        quote! {
            let _ = (&__path, &__out);
            #fields
            #container
        }
    }

    fn enum_checks(
        &self,
        variants: &[Variant<'_>],
        attrs: &[(Member, Vec<Member>)],
    ) -> TokenStream {
        let tag = self.input.serde.attrs.tag();
        let arms = variants
            .iter()
            .zip(attrs)
            .filter_map(|(variant, (_, fields))| {
                if variant.fields.is_empty() || variant.attrs.skip_deserializing() {
                    return None;
                }
                let ident = &variant.ident;
                let bindings: Vec<Ident> = (0..variant.fields.len())
                    .map(|i| format_ident!("__f{i}"))
                    .collect();
                let pattern = if let Style::Struct = variant.style {
                    let members = variant.fields.iter().map(|f| &f.member);
                    quote!(Self::#ident { #(#members: #bindings),* })
                } else {
                    quote!(Self::#ident(#(#bindings),*))
                };
                let untagged = variant.attrs.untagged() || matches!(tag, TagType::None);
                let prefix = match tag {
                    _ if untagged => None,
                    TagType::External => Some(variant.attrs.name().deserialize_name().to_owned()),
                    TagType::Adjacent { content, .. } => Some(content.clone()),
                    TagType::Internal { .. } | TagType::None => None,
                };
                let keyed = matches!(variant.style, Style::Struct);
                let checks: Vec<TokenStream> = variant
                    .fields
                    .iter()
                    .zip(fields)
                    .zip(&bindings)
                    .map(|((field, attrs), binding)| {
                        self.field_checks(field, attrs, &quote!(#binding), keyed)
                    })
                    .collect();
                let private = &self.private;
                let push = prefix.map(|seg| quote!(#private::push_key(__path, #seg);));
                Some(quote! {
                    #pattern => {
                        let __outer = __path.len();
                        #push
                        #(#checks)*
                        __path.truncate(__outer);
                    }
                })
            });
        quote! {
            #[allow(unreachable_patterns)]
            match self {
                #(#arms)*
                _ => {}
            }
        }
    }

    /// Validators and nested checks for one field; `access` is an expression of type `&T`.
    fn field_checks(
        &self,
        field: &Field<'_>,
        attrs: &Member,
        access: &TokenStream,
        keyed: bool,
    ) -> TokenStream {
        let private = &self.private;
        if field.attrs.skip_deserializing() {
            return TokenStream::new();
        }
        let nested = self.nested(field.ty, access, 0);
        let validator = attrs.validate.as_ref().map(|f| {
            quote_spanned!(f.span()=> #private::check(#f(#access), __path, ::core::option::Option::None, __out);)
        });
        if nested.is_empty() && validator.is_none() {
            return TokenStream::new();
        }
        let push = (keyed && !field.attrs.flatten()).then(|| {
            let name = field.attrs.name().deserialize_name();
            quote!(#private::push_key(__path, #name);)
        });
        quote! {{
            let __len = __path.len();
            #push
            #nested
            #validator
            __path.truncate(__len);
        }}
    }
}

/// A container that nested validation looks through to reach its element type.
enum Wrapper {
    Option,
    /// `Box`, `Rc`, `Arc`.
    Pointer,
    /// `Vec`, `VecDeque`, `LinkedList`: elements get an index segment.
    List,
    /// A map with string keys: values get a key segment.
    Map,
}

/// The wrapper `ty` is and the type inside it, or `None` when `ty` is no wrapper. A map
/// whose keys are not strings has no JSON-pointer segment for its values, so it is none.
fn peel(ty: &Type) -> Option<(Wrapper, &Type)> {
    let (name, Some(inner)) = ty::last_segment(ty)? else {
        return None;
    };
    let wrapper = match name.as_str() {
        "Option" => Wrapper::Option,
        "Box" | "Rc" | "Arc" => Wrapper::Pointer,
        "Vec" | "VecDeque" | "LinkedList" => Wrapper::List,
        "HashMap" | "BTreeMap" if ty::kind(inner) == Kind::String => {
            return ty::second_arg(ty).map(|value| (Wrapper::Map, value));
        }
        _ => return None,
    };
    Some((wrapper, inner))
}

impl Codegen<'_> {
    /// Nested validation for a value of type `ty` reached through `value` (an expression of
    /// type `&ty`). `Option`, `Box` and the common collections are peeled here, because the
    /// probe resolves on the concrete element type.
    fn nested(&self, ty: &Type, value: &TokenStream, depth: usize) -> TokenStream {
        if depth > 4 {
            return self.probe(value);
        }
        let Some((wrapper, inner)) = peel(ty) else {
            return if matches!(
                ty::kind(ty),
                Kind::Number | Kind::String | Kind::Bool | Kind::Array | Kind::Map
            ) {
                TokenStream::new()
            } else {
                self.probe(value)
            };
        };
        let v = format_ident!("__v{depth}");
        let body = self.nested(inner, &quote!(#v), depth + 1);
        if body.is_empty() {
            return body;
        }
        let private = &self.private;
        match wrapper {
            Wrapper::Option => quote! {
                if let ::core::option::Option::Some(#v) = #value { #body }
            },
            Wrapper::Pointer => quote! {{
                let #v: &#inner = &**#value;
                #body
            }},
            Wrapper::List => {
                let i = format_ident!("__i{depth}");
                quote! {
                    for (#i, #v) in ::core::iter::Iterator::enumerate(::core::iter::IntoIterator::into_iter(#value)) {
                        let __item = __path.len();
                        #private::push_index(__path, #i);
                        #body
                        __path.truncate(__item);
                    }
                }
            }
            Wrapper::Map => {
                let k = format_ident!("__k{depth}");
                quote! {
                    for (#k, #v) in #value {
                        let __item = __path.len();
                        #private::push_key(__path, ::core::convert::AsRef::<str>::as_ref(#k));
                        #body
                        __path.truncate(__item);
                    }
                }
            }
        }
    }

    fn probe(&self, value: &TokenStream) -> TokenStream {
        let private = &self.private;
        quote! {{
            #[allow(unused_imports)]
            use #private::{ViaExtract as _, ViaNothing as _};
            (&#private::Probe(#value)).nested(__path, __out);
        }}
    }
}
