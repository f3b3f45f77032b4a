//! The `JsonSchema` impl: the source schema, with every doc and constraint the type
//! declares, built through `__private`'s schema builders.

use proc_macro2::TokenStream;
use quote::quote;
use serde_derive_internals::ast::{Data, Field, Style, Variant};
use serde_derive_internals::attr::TagType;
use syn::Type;

use super::{Codegen, opt, opt_str};
use crate::ast::Members;
use crate::attr::Member;
use crate::ty;

impl Codegen<'_> {
    pub(super) fn json_schema_impl(&self) -> TokenStream {
        let private = &self.private;
        let ident = self.ident();
        let generics = self.bounded(&[quote!(#private::JsonSchema)]);
        let (impl_g, ty_g, where_c) = generics.split_for_impl();
        let base = self.input.serde.attrs.name().deserialize_name().to_owned();
        let params = self.type_params();
        let (name, id) = if params.is_empty() {
            (
                quote!(#private::Cow::Borrowed(#base)),
                quote!(#private::Cow::Borrowed(::core::concat!(::core::module_path!(), "::", #base))),
            )
        } else {
            (
                quote!(#private::generic_name(#base, &[#(<#params as #private::JsonSchema>::schema_name()),*])),
                quote!(#private::Cow::Owned(::std::format!(
                    "{}::{}<{}>",
                    ::core::module_path!(),
                    #base,
                    [#(<#params as #private::JsonSchema>::schema_id()),*].join(",")
                ))),
            )
        };
        let inline = self.input.serde.attrs.transparent();
        let body = self.schema_body();
        quote! {
            #[automatically_derived]
            impl #impl_g #private::JsonSchema for #ident #ty_g #where_c {
                fn schema_name() -> #private::Cow<'static, str> { #name }
                fn schema_id() -> #private::Cow<'static, str> { #id }
                fn inline_schema() -> bool { #inline }
                fn json_schema(__g: &mut #private::SchemaGenerator) -> #private::JsonSchemaDoc {
                    #body
                }
            }
        }
    }

    fn container_describe(&self, target: &TokenStream) -> TokenStream {
        let private = &self.private;
        let description = opt_str(self.input.attrs.description.as_deref());
        let examples = &self.input.attrs.examples;
        quote!(#private::describe(&mut #target, #description, &[#(#examples),*]);)
    }

    fn schema_body(&self) -> TokenStream {
        let private = &self.private;
        let s = quote!(__s);
        let describe = self.container_describe(&s);
        match (&self.input.serde.data, &self.input.members) {
            (Data::Struct(style, fields), Members::Struct(attrs))
                if !fields.is_empty()
                    && (matches!(style, Style::Newtype | Style::Tuple)
                        || self.input.serde.attrs.transparent()) =>
            {
                // Newtypes and `#[serde(transparent)]` structs are their single field.
                let index = fields
                    .iter()
                    .position(|f| !f.attrs.skip_deserializing())
                    .unwrap_or(0);
                let inner = self.member_schema(&fields[index], &attrs[index]);
                quote! {
                    let mut __s = { #inner };
                    #describe
                    __s
                }
            }
            (Data::Struct(Style::Struct, fields), Members::Struct(attrs)) => {
                let object = self.object(
                    fields,
                    attrs,
                    self.input.serde.attrs.deny_unknown_fields(),
                    true,
                );
                quote! {
                    let mut __s = { #object };
                    #describe
                    __s
                }
            }
            (Data::Struct(..), _) => quote! {
                let mut __s = #private::null();
                #describe
                __s
            },
            (Data::Enum(variants), Members::Enum(attrs)) => self.enum_body(variants, attrs),
            _ => quote!(#private::null()),
        }
    }

    /// A field's schema with its docs and constraints applied.
    fn member_schema(&self, field: &Field<'_>, attrs: &Member) -> TokenStream {
        let private = &self.private;
        let ty = field.ty;
        let annotations = self.annotations(attrs);
        quote! {
            let mut __f = __g.subschema_for::<#ty>();
            #private::annotate(__g, &mut __f, &#annotations);
            __f
        }
    }

    fn annotations(&self, attrs: &Member) -> TokenStream {
        let private = &self.private;
        let description = opt_str(attrs.description.as_deref());
        let examples = &attrs.examples;
        let (min, max) = attrs.range.as_ref().map_or((None, None), |r| r.value);
        let (min_len, max_len) = attrs.length.as_ref().map_or((None, None), |l| l.value);
        let minimum = opt(min.map(|v| quote!(#v)));
        let maximum = opt(max.map(|v| quote!(#v)));
        let min_length = opt(min_len.map(|v| quote!(#v)));
        let max_length = opt(max_len.map(|v| quote!(#v)));
        let pattern = opt_str(attrs.pattern.as_ref().map(|x| x.value.as_str()));
        let format = opt_str(attrs.format.as_ref().map(|x| x.value.as_str()));
        quote! {
            #private::Annotations {
                description: #description,
                examples: &[#(#examples),*],
                minimum: #minimum,
                maximum: #maximum,
                min_length: #min_length,
                max_length: #max_length,
                pattern: #pattern,
                format: #format,
            }
        }
    }

    /// An object schema for named fields (a struct or a struct variant).
    fn object(
        &self,
        fields: &[Field<'_>],
        attrs: &[Member],
        deny_unknown: bool,
        container_default_applies: bool,
    ) -> TokenStream {
        let private = &self.private;
        let container_default =
            container_default_applies && !self.input.serde.attrs.default().is_none();
        let mut steps = Vec::new();
        for (field, attrs) in fields.iter().zip(attrs) {
            if field.attrs.skip_deserializing() {
                continue;
            }
            if field.attrs.flatten() {
                let optional = ty::is_option(field.ty);
                let inner: &Type = if optional {
                    ty::last_segment(field.ty)
                        .and_then(|(_, a)| a)
                        .unwrap_or(field.ty)
                } else {
                    field.ty
                };
                steps.push(quote! {
                    let __f = __g.subschema_for::<#inner>();
                    #private::flatten(&mut __s, __g, __f, #optional);
                });
                continue;
            }
            let name = field.attrs.name().deserialize_name();
            // serde fills a missing field from its default, and a missing `Option` with
            // `None` unless a custom deserializer takes over.
            let required = field.attrs.default().is_none()
                && !container_default
                && !(ty::is_option(field.ty) && field.attrs.deserialize_with().is_none());
            let schema = self.member_schema(field, attrs);
            steps.push(quote! {
                let __f = { #schema };
                #private::property(&mut __s, #name, __f, #required);
            });
        }
        let close = deny_unknown.then(|| quote!(#private::close(&mut __s);));
        quote! {
            let mut __s = #private::object();
            #(#steps)*
            #close
            __s
        }
    }

    fn enum_body(&self, variants: &[Variant<'_>], attrs: &[(Member, Vec<Member>)]) -> TokenStream {
        let private = &self.private;
        let s = quote!(__s);
        let describe = self.container_describe(&s);
        let live: Vec<(&Variant<'_>, &(Member, Vec<Member>))> = variants
            .iter()
            .zip(attrs)
            .filter(|(v, _)| !v.attrs.skip_deserializing() && !v.attrs.other())
            .collect();
        let tag = self.input.serde.attrs.tag();
        let all_unit = live
            .iter()
            .all(|(v, _)| matches!(v.style, Style::Unit) && !v.attrs.untagged());
        if all_unit && matches!(tag, TagType::External) {
            let entries = live.iter().map(|(v, (own, _))| {
                let name = v.attrs.name().deserialize_name();
                let doc = opt_str(own.description.as_deref());
                quote!((#name, #doc))
            });
            return quote! {
                let mut __s = #private::unit_enum(&[#(#entries),*]);
                #describe
                __s
            };
        }
        let mut any_untagged = matches!(tag, TagType::None);
        let branches: Vec<TokenStream> = live
            .iter()
            .map(|(v, (own, fields))| {
                let untagged = v.attrs.untagged() || matches!(tag, TagType::None);
                any_untagged |= untagged;
                let branch =
                    self.variant_schema(v, fields, if untagged { &TagType::None } else { tag });
                let description = opt_str(own.description.as_deref());
                let examples = &own.examples;
                quote! {{
                    let mut __v = { #branch };
                    #private::describe(&mut __v, #description, &[#(#examples),*]);
                    __v
                }}
            })
            .collect();
        let key = if any_untagged { "anyOf" } else { "oneOf" };
        quote! {
            let mut __s = #private::union(#key, ::std::vec![#(#branches),*]);
            #describe
            __s
        }
    }

    fn variant_schema(
        &self,
        variant: &Variant<'_>,
        fields: &[Member],
        tag: &TagType,
    ) -> TokenStream {
        let private = &self.private;
        let name = variant.attrs.name().deserialize_name();
        let deny = self.input.serde.attrs.deny_unknown_fields();
        let content = match variant.style {
            Style::Unit => None,
            Style::Newtype | Style::Tuple => variant
                .fields
                .first()
                .map(|field| (self.member_schema(field, &fields[0]), field.ty)),
            Style::Struct => Some((
                self.object(&variant.fields, fields, deny, false),
                variant.fields[0].ty,
            )),
        };
        let is_struct = matches!(variant.style, Style::Struct);
        match tag {
            TagType::External => match content {
                None => quote!(#private::constant(#name)),
                Some((schema, _)) => quote!(#private::externally_tagged(#name, { #schema })),
            },
            TagType::Internal { tag } => match content {
                None => quote!(#private::internally_tagged(#private::object(), #tag, #name)),
                Some((schema, _)) if is_struct => {
                    quote!(#private::internally_tagged({ #schema }, #tag, #name))
                }
                Some((_, ty)) => {
                    quote!(#private::internally_tagged(#private::inline_object::<#ty>(__g), #tag, #name))
                }
            },
            TagType::Adjacent { tag, content: key } => match content {
                None => {
                    quote!(#private::adjacently_tagged(#tag, #key, #name, ::core::option::Option::None))
                }
                Some((schema, _)) => {
                    quote!(#private::adjacently_tagged(#tag, #key, #name, ::core::option::Option::Some({ #schema })))
                }
            },
            TagType::None => match content {
                None => quote!(#private::null()),
                Some((schema, _)) => schema,
            },
        }
    }
}
