//! The `JsonSchema` impl: the source schema, with every doc and constraint the type
//! declares, built through `__private`'s schema builders.

use proc_macro2::TokenStream;
use quote::quote;
use serde_derive_internals::ast::Style;
use serde_derive_internals::attr::TagType;
use syn::Type;

use super::{Codegen, opt, opt_str};
use crate::ast::{Data, Field, Variant};
use crate::attr::Member;
use crate::ty;

impl Codegen<'_> {
    pub(super) fn json_schema_impl(&self) -> TokenStream {
        let private = &self.private;
        let ident = self.ident();
        let generics = self.bounded(&[quote!(#private::JsonSchema)]);
        let (impl_g, ty_g, where_c) = generics.split_for_impl();
        let (name, id) = self.schema_name_and_id();
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

    /// `schema_name` and `schema_id`: serde's name of the type, and for a generic type the
    /// names (ids) of its type and then const arguments too (schemars' order), so that every
    /// instantiation, `Fixed<1>` as `Page<Person>`, gets its own.
    fn schema_name_and_id(&self) -> (TokenStream, TokenStream) {
        let private = &self.private;
        let base = self.input.serde.attrs.name().deserialize_name();
        let types = self.type_params();
        let consts: Vec<TokenStream> = self
            .input
            .serde
            .generics
            .const_params()
            .map(|c| {
                let ident = &c.ident;
                quote!(#private::Cow::Owned(::std::string::ToString::to_string(&#ident)))
            })
            .collect();
        if types.is_empty() && consts.is_empty() {
            return (
                quote!(#private::Cow::Borrowed(#base)),
                quote!(#private::Cow::Borrowed(::core::concat!(::core::module_path!(), "::", #base))),
            );
        }
        let names = quote!(#(<#types as #private::JsonSchema>::schema_name(),)* #(#consts,)*);
        let ids = quote!(#(<#types as #private::JsonSchema>::schema_id(),)* #(#consts,)*);
        (
            quote!(#private::generic_name(#base, &[#names])),
            quote!(#private::Cow::Owned(::std::format!(
                "{}::{}<{}>",
                ::core::module_path!(),
                #base,
                [#ids].join(",")
            ))),
        )
    }

    /// A call that sets the description and examples of the schema in `target`.
    fn describe(
        &self,
        target: &TokenStream,
        description: Option<&str>,
        examples: &[String],
    ) -> TokenStream {
        let private = &self.private;
        let description = opt_str(description);
        quote!(#private::describe_container(&mut #target, #description, &[#(#examples),*]);)
    }

    fn describe_type(&self) -> TokenStream {
        let attrs = &self.input.attrs;
        self.describe(&quote!(__s), attrs.description.as_deref(), &attrs.examples)
    }

    fn schema_body(&self) -> TokenStream {
        let content = match &self.input.data {
            Data::Struct(style, fields) => self.struct_schema(*style, fields),
            Data::Enum(variants) => self.enum_schema(variants),
        };
        let describe = self.describe_type();
        quote! {
            let mut __s = { #content };
            #describe
            __s
        }
    }

    fn struct_schema(&self, style: Style, fields: &[Field<'_>]) -> TokenStream {
        let serde = &self.input.serde.attrs;
        if !fields.is_empty()
            && (matches!(style, Style::Newtype | Style::Tuple) || serde.transparent())
        {
            // Newtypes and `#[serde(transparent)]` structs are their single field.
            let field = fields
                .iter()
                .find(|f| !f.serde.attrs.skip_deserializing())
                .unwrap_or(&fields[0]);
            return self.member_schema(field, true);
        }
        if matches!(style, Style::Struct) {
            self.object(fields, serde.deny_unknown_fields(), true)
        } else {
            let private = &self.private;
            quote!(#private::null())
        }
    }

    /// A field's schema with its docs and constraints applied. A `String` the value needs
    /// (`required`) gets `minLength: 1` unless the field says `allow_empty` or sets its own
    /// length: an empty string is no answer, and grammars then forbid it. A `pattern` or
    /// `format` already says what the text looks like (and llama.cpp then ignores lengths).
    fn member_schema(&self, field: &Field<'_>, required: bool) -> TokenStream {
        let private = &self.private;
        let ty = field.serde.ty;
        let attrs = &field.attrs;
        let non_empty = required
            && ty::is_string(ty)
            && attrs.allow_empty.is_none()
            && attrs.pattern.is_none()
            && attrs.format.is_none();
        let annotations = self.annotations(&field.attrs, non_empty);
        quote! {
            let mut __f = __g.subschema_for::<#ty>();
            #private::annotate(__g, &mut __f, &#annotations);
            __f
        }
    }

    fn annotations(&self, attrs: &Member, non_empty: bool) -> TokenStream {
        let private = &self.private;
        let description = opt_str(attrs.description.as_deref());
        let examples = &attrs.examples;
        let (min, max) = attrs.range.as_ref().map_or((None, None), |r| r.value);
        let (min_len, max_len) = attrs.length.as_ref().map_or((None, None), |l| l.value);
        let min_len = min_len.or(non_empty.then_some(1));
        let minimum = opt(min.map(|v| quote!(#v)));
        let maximum = opt(max.map(|v| quote!(#v)));
        let min_length = opt(min_len.map(|v| quote!(#v)));
        let max_length = opt(max_len.map(|v| quote!(#v)));
        let pattern = opt_str(attrs.pattern.as_ref().map(|x| x.value.as_str()));
        let format = opt_str(attrs.format.as_ref().map(|x| x.value.as_str()));
        let grounded = attrs.grounded.is_some();
        let unique_items = attrs.unique.is_some();
        let inferred = attrs.inferred.is_some();
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
                grounded: #grounded,
                unique_items: #unique_items,
                inferred: #inferred,
            }
        }
    }

    /// An object schema for named fields (a struct or a struct variant).
    fn object(
        &self,
        fields: &[Field<'_>],
        deny_unknown: bool,
        container_default_applies: bool,
    ) -> TokenStream {
        let private = &self.private;
        let container_default =
            container_default_applies && !self.input.serde.attrs.default().is_none();
        let steps = fields
            .iter()
            .filter(|field| !field.serde.attrs.skip_deserializing())
            .map(|field| {
                if field.serde.attrs.flatten() {
                    self.flattened(field)
                } else {
                    self.property(field, container_default)
                }
            });
        let close = deny_unknown.then(|| quote!(#private::close(&mut __s);));
        quote! {
            let mut __s = #private::object();
            #(#steps)*
            #close
            __s
        }
    }

    /// A `#[serde(flatten)]` field merged into the object being built.
    fn flattened(&self, field: &Field<'_>) -> TokenStream {
        let private = &self.private;
        let ty = field.serde.ty;
        let optional = ty::is_option(ty);
        let inner: &Type = if optional {
            ty::last_segment(ty).and_then(|(_, a)| a).unwrap_or(ty)
        } else {
            ty
        };
        quote! {
            let __f = __g.subschema_for::<#inner>();
            #private::flatten(&mut __s, __g, __f, #optional);
        }
    }

    /// A named field added to the object being built.
    fn property(&self, field: &Field<'_>, container_default: bool) -> TokenStream {
        let private = &self.private;
        let serde = &field.serde.attrs;
        let name = serde.name().deserialize_name();
        // serde fills a missing field from its default, and a missing `Option` with
        // `None` unless a custom deserializer takes over.
        let required = serde.default().is_none()
            && !container_default
            && !(ty::is_option(field.serde.ty) && serde.deserialize_with().is_none());
        let schema = self.member_schema(field, required);
        quote! {
            let __f = { #schema };
            #private::property(&mut __s, #name, __f, #required);
        }
    }

    fn enum_schema(&self, variants: &[Variant<'_>]) -> TokenStream {
        let live: Vec<&Variant<'_>> = variants
            .iter()
            .filter(|v| !v.serde.attrs.skip_deserializing() && !v.serde.attrs.other())
            .collect();
        let tag = self.input.serde.attrs.tag();
        let all_unit = live
            .iter()
            .all(|v| matches!(v.serde.style, Style::Unit) && !v.serde.attrs.untagged());
        if all_unit && matches!(tag, TagType::External) {
            let private = &self.private;
            let entries = live.iter().map(|v| {
                let name = v.serde.attrs.name().deserialize_name();
                let doc = opt_str(v.attrs.description.as_deref());
                quote!((#name, #doc))
            });
            return quote!(#private::unit_enum(&[#(#entries),*]));
        }
        self.union(&live, tag)
    }

    /// A `oneOf` of tagged variants, or an `anyOf` when any variant is untagged.
    fn union(&self, live: &[&Variant<'_>], tag: &TagType) -> TokenStream {
        let private = &self.private;
        let mut any_untagged = matches!(tag, TagType::None);
        let branches: Vec<TokenStream> = live
            .iter()
            .map(|v| {
                let untagged = v.serde.attrs.untagged() || matches!(tag, TagType::None);
                any_untagged |= untagged;
                let branch = self.variant_schema(v, if untagged { &TagType::None } else { tag });
                let describe = self.describe(
                    &quote!(__v),
                    v.attrs.description.as_deref(),
                    &v.attrs.examples,
                );
                quote! {{
                    let mut __v = { #branch };
                    #describe
                    __v
                }}
            })
            .collect();
        let key = if any_untagged { "anyOf" } else { "oneOf" };
        quote!(#private::union(#key, ::std::vec![#(#branches),*]))
    }

    fn variant_schema(&self, variant: &Variant<'_>, tag: &TagType) -> TokenStream {
        let name = variant.serde.attrs.name().deserialize_name();
        let deny = self.input.serde.attrs.deny_unknown_fields();
        let content = match variant.serde.style {
            Style::Unit => None,
            Style::Newtype | Style::Tuple => variant
                .fields
                .first()
                .map(|field| Content::Single(self.member_schema(field, true), field.serde.ty)),
            Style::Struct => Some(Content::Object(self.object(&variant.fields, deny, false))),
        };
        self.tagged(tag, name, content)
    }

    /// A variant's content in serde's tagging style `tag`.
    fn tagged(&self, tag: &TagType, name: &str, content: Option<Content<'_>>) -> TokenStream {
        let private = &self.private;
        let none = quote!(::core::option::Option::None);
        match (tag, content) {
            (TagType::External, None) => quote!(#private::constant(#name)),
            (TagType::External, Some(content)) => {
                let schema = content.schema();
                quote!(#private::externally_tagged(#name, { #schema }))
            }
            (TagType::Internal { tag }, None) => {
                quote!(#private::internally_tagged(#private::object(), #tag, #name))
            }
            (TagType::Internal { tag }, Some(Content::Object(schema))) => {
                quote!(#private::internally_tagged({ #schema }, #tag, #name))
            }
            (TagType::Internal { tag }, Some(Content::Single(_, ty))) => {
                quote!(#private::internally_tagged(#private::inline_object::<#ty>(__g), #tag, #name))
            }
            (TagType::Adjacent { tag, content: key }, None) => {
                quote!(#private::adjacently_tagged(#tag, #key, #name, #none))
            }
            (TagType::Adjacent { tag, content: key }, Some(content)) => {
                let schema = content.schema();
                quote!(#private::adjacently_tagged(#tag, #key, #name, ::core::option::Option::Some({ #schema })))
            }
            (TagType::None, None) => quote!(#private::null()),
            (TagType::None, Some(content)) => content.schema(),
        }
    }
}

/// What a data variant holds, as schema-building code.
enum Content<'a> {
    /// A newtype (or one-field tuple) variant: the field's schema and its type, which
    /// internal tagging inlines so that the tag can join its properties.
    Single(TokenStream, &'a Type),
    /// A struct variant's object.
    Object(TokenStream),
}

impl Content<'_> {
    fn schema(self) -> TokenStream {
        match self {
            Content::Single(schema, _) | Content::Object(schema) => schema,
        }
    }
}
