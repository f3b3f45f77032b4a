//! The `Extract` impl: instructions, the cached schema, the partial's items (from
//! `partial`), and `validate_into`, which runs the user's validators and recurses into
//! nested `Extract` values with their JSON paths.

use heck::ToSnakeCase as _;
use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use serde_derive_internals::ast::Style;
use serde_derive_internals::attr::TagType;
use syn::spanned::Spanned;
use syn::{Ident, Type, parse_quote};

use super::{Codegen, opt_str};
use crate::ast::{Data, Field, Variant};
use crate::ty::{self, Kind};

impl Codegen<'_> {
    pub(super) fn extract_impl(&self) -> TokenStream {
        let private = &self.private;
        let krate = &self.krate;
        let ident = self.ident();
        let generics = self.bounded(&[quote!(#private::JsonSchema), quote!('static)]);
        let (impl_g, ty_g, where_c) = generics.split_for_impl();
        let mut where_c = where_c.cloned().unwrap_or_else(|| parse_quote!(where));
        // A generic type deserializes only for some arguments, which the bound selects. On
        // any other type the bound would be trivially false without `Deserialize`, failing
        // the impl at every use site as well; left out, the missing derive is one error.
        if self.input.is_generic() {
            where_c
                .predicates
                .push(parse_quote!(#ident #ty_g: #private::serde::de::DeserializeOwned));
        }
        where_c.predicates.extend(self.partial_bounds());
        let partial = self.partial_items();
        let instructions = opt_str(self.input.attrs.instructions.as_deref());
        let per_type = self.per_type_items();
        let validate = self.validate_body();
        quote! {
            #[automatically_derived]
            impl #impl_g #krate::Extract for #ident #ty_g #where_c {
                const INSTRUCTIONS: ::core::option::Option<&'static str> = #instructions;
                #partial
                #per_type
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

    /// The items only a non-generic type can have: a `static` in a generic impl would be
    /// shared by every instantiation, and the envelope key of a generic type depends on its
    /// arguments, so generic types keep the trait's defaults (the shared map, the schema
    /// name). `#[extract(schemars)]` types keep the default key too, which follows the name
    /// their own `JsonSchema` impl gives.
    fn per_type_items(&self) -> TokenStream {
        if self.input.is_generic() {
            return TokenStream::new();
        }
        let private = &self.private;
        let krate = &self.krate;
        let envelope_key = (!self.input.attrs.schemars).then(|| {
            let key = envelope_key(self.input.serde.attrs.name().deserialize_name());
            quote! {
                fn envelope_key() -> ::std::borrow::Cow<'static, str> {
                    ::std::borrow::Cow::Borrowed(#key)
                }
            }
        });
        quote! {
            fn schema() -> &'static #krate::Schema {
                static __CELL: ::std::sync::OnceLock<#krate::Schema> = ::std::sync::OnceLock::new();
                #private::static_schema::<Self>(&__CELL)
            }
            #envelope_key
        }
    }

    fn validate_body(&self) -> TokenStream {
        let private = &self.private;
        let container = self.input.attrs.validate.as_ref().map(|f| {
            quote_spanned!(f.span()=> #private::run_validator(#f(self), __path, ::core::option::Option::None, __out);)
        });
        let fields = match &self.input.data {
            Data::Struct(style, fields) => {
                let keyed = matches!(style, Style::Struct);
                let steps = fields.iter().map(|field| {
                    let member = &field.serde.member;
                    self.field_checks(field, &quote!(&self.#member), keyed)
                });
                quote!(#(#steps)*)
            }
            Data::Enum(variants) => self.enum_checks(variants),
        };
        quote! {
            let _ = (&__path, &__out);
            #fields
            #container
        }
    }

    fn enum_checks(&self, variants: &[Variant<'_>]) -> TokenStream {
        let arms = variants
            .iter()
            .filter_map(|variant| self.variant_checks(variant));
        quote! {
            #[allow(unreachable_patterns, reason = "when every variant has an arm, the catch-all is unreachable")]
            match self {
                #(#arms)*
                _ => {}
            }
        }
    }

    /// The match arm that checks one data variant's fields, under its JSON path.
    fn variant_checks(&self, variant: &Variant<'_>) -> Option<TokenStream> {
        if variant.fields.is_empty() || variant.serde.attrs.skip_deserializing() {
            return None;
        }
        let ident = &variant.serde.ident;
        let bindings: Vec<Ident> = (0..variant.fields.len())
            .map(|i| format_ident!("__f{i}"))
            .collect();
        let keyed = matches!(variant.serde.style, Style::Struct);
        let pattern = if keyed {
            let members = variant.fields.iter().map(|f| &f.serde.member);
            quote!(Self::#ident { #(#members: #bindings),* })
        } else {
            quote!(Self::#ident(#(#bindings),*))
        };
        let checks = variant
            .fields
            .iter()
            .zip(&bindings)
            .map(|(field, binding)| self.field_checks(field, &quote!(#binding), keyed));
        let private = &self.private;
        let push = self
            .variant_segment(variant)
            .map(|segment| quote!(#private::push_key(__path, #segment);));
        Some(quote! {
            #pattern => {
                let __outer = __path.len();
                #push
                #(#checks)*
                __path.truncate(__outer);
            }
        })
    }

    /// The key a variant's content sits under in serde's JSON, when there is one: the
    /// variant's name (external tagging) or the content key (adjacent tagging).
    fn variant_segment(&self, variant: &Variant<'_>) -> Option<String> {
        let tag = self.input.serde.attrs.tag();
        if variant.serde.attrs.untagged() {
            return None;
        }
        match tag {
            TagType::External => Some(variant.serde.attrs.name().deserialize_name().to_owned()),
            TagType::Adjacent { content, .. } => Some(content.clone()),
            TagType::Internal { .. } | TagType::None => None,
        }
    }

    /// Validators and nested checks for one field; `access` is an expression of type `&T`.
    fn field_checks(&self, field: &Field<'_>, access: &TokenStream, keyed: bool) -> TokenStream {
        let private = &self.private;
        let serde = &field.serde.attrs;
        if serde.skip_deserializing() {
            return TokenStream::new();
        }
        let nested = self.nested(field.serde.ty, access, 0);
        let validator = field.attrs.validate.as_ref().map(|f| {
            quote_spanned!(f.span()=> #private::run_validator(#f(#access), __path, ::core::option::Option::None, __out);)
        });
        if nested.is_empty() && validator.is_none() {
            return TokenStream::new();
        }
        let push = (keyed && !serde.flatten()).then(|| {
            let name = serde.name().deserialize_name();
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

/// The envelope key of a type named `name` (its schema name): the name in snake case, or
/// `value` when nothing of it is left, the rule `Extract::envelope_key`'s default follows.
fn envelope_key(name: &str) -> String {
    let key = name.to_snake_case();
    if key.is_empty() {
        "value".to_owned()
    } else {
        key
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
    /// A map with integer keys: values get the key's decimal text as their segment.
    IntegerMap,
}

/// The wrapper `ty` is and the type inside it, or `None` when `ty` is no wrapper. A map
/// whose keys are neither strings nor integers has no JSON-pointer segment for its values,
/// so it is none.
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
        "HashMap" | "BTreeMap" if ty::is_integer_key(inner) => {
            return ty::second_arg(ty).map(|value| (Wrapper::IntegerMap, value));
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
        self.look_through(&wrapper, inner, value, &v, &body, depth)
    }

    /// `body`, run on the element `v` of `value`, with the element's JSON-pointer segment.
    fn look_through(
        &self,
        wrapper: &Wrapper,
        inner: &Type,
        value: &TokenStream,
        v: &Ident,
        body: &TokenStream,
        depth: usize,
    ) -> TokenStream {
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
            Wrapper::Map | Wrapper::IntegerMap => {
                let k = format_ident!("__k{depth}");
                let key = if matches!(wrapper, Wrapper::Map) {
                    quote!(::core::convert::AsRef::<str>::as_ref(#k))
                } else {
                    quote!(&::std::string::ToString::to_string(#k))
                };
                quote! {
                    for (#k, #v) in #value {
                        let __item = __path.len();
                        #private::push_key(__path, #key);
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
            #[allow(unused_imports, reason = "only one of the two traits is picked for a given type")]
            use #private::{ViaExtract as _, ViaNothing as _};
            (&#private::Probe(#value)).nested(__path, __out);
        }}
    }
}
