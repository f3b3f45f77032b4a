//! Code generation. Every emitted path is absolute (`::core::…`, `<factum>::__private::…`)
//! so the expansion never depends on what the user's module has in scope.

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use serde_derive_internals::ast::{Data, Field, Style, Variant};
use serde_derive_internals::attr::TagType;
use syn::spanned::Spanned;
use syn::{Ident, Type, parse_quote};

use crate::ast::{Input, Members};
use crate::attr::Member;
use crate::ty::{self, Kind};

struct Ctx<'a> {
    input: &'a Input<'a>,
    /// `<factum>::__private`
    p: TokenStream,
    krate: syn::Path,
}

pub(crate) fn expand(input: &Input<'_>) -> TokenStream {
    let krate = input
        .attrs
        .krate
        .clone()
        .unwrap_or_else(|| parse_quote!(::factum));
    let cx = Ctx {
        input,
        p: quote!(#krate::__private),
        krate,
    };
    let json_schema = if input.attrs.schemars.is_some() {
        TokenStream::new()
    } else {
        cx.json_schema_impl()
    };
    let extract = cx.extract_impl();
    let strict = if input.attrs.strict {
        cx.strict_impl()
    } else {
        TokenStream::new()
    };
    quote! {
        #json_schema
        #extract
        #strict
    }
}

/// What is emitted beside the `compile_error!`s: stub impls, so the user sees the real
/// error and not a cascade of "`Extract` is not implemented" at every use site.
pub(crate) fn fallback(
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

impl Ctx<'_> {
    fn ident(&self) -> &Ident {
        &self.input.serde.ident
    }

    fn type_params(&self) -> Vec<&Ident> {
        self.input
            .serde
            .generics
            .type_params()
            .map(|t| &t.ident)
            .collect()
    }

    /// The type's generics with `bound` added to every type parameter.
    fn bounded(&self, bounds: &[TokenStream]) -> syn::Generics {
        let mut generics = self.input.serde.generics.clone();
        for param in generics.type_params_mut() {
            for bound in bounds {
                param.bounds.push(parse_quote!(#bound));
            }
        }
        generics
    }

    // ---- JsonSchema ------------------------------------------------------------------

    fn json_schema_impl(&self) -> TokenStream {
        let p = &self.p;
        let ident = self.ident();
        let generics = self.bounded(&[quote!(#p::JsonSchema)]);
        let (impl_g, ty_g, where_c) = generics.split_for_impl();
        let base = self.input.serde.attrs.name().deserialize_name().to_owned();
        let params = self.type_params();
        let (name, id) = if params.is_empty() {
            (
                quote!(#p::Cow::Borrowed(#base)),
                quote!(#p::Cow::Borrowed(::core::concat!(::core::module_path!(), "::", #base))),
            )
        } else {
            (
                quote!(#p::generic_name(#base, &[#(<#params as #p::JsonSchema>::schema_name()),*])),
                quote!(#p::Cow::Owned(::std::format!(
                    "{}::{}<{}>",
                    ::core::module_path!(),
                    #base,
                    [#(<#params as #p::JsonSchema>::schema_id()),*].join(",")
                ))),
            )
        };
        let inline = self.input.serde.attrs.transparent();
        let body = self.schema_body();
        quote! {
            #[automatically_derived]
            impl #impl_g #p::JsonSchema for #ident #ty_g #where_c {
                fn schema_name() -> #p::Cow<'static, str> { #name }
                fn schema_id() -> #p::Cow<'static, str> { #id }
                fn inline_schema() -> bool { #inline }
                fn json_schema(__g: &mut #p::SchemaGenerator) -> #p::JsonSchemaDoc {
                    #body
                }
            }
        }
    }

    fn container_describe(&self, target: &TokenStream) -> TokenStream {
        let p = &self.p;
        let description = opt_str(self.input.attrs.description.as_deref());
        let examples = &self.input.attrs.examples;
        quote!(#p::describe(&mut #target, #description, &[#(#examples),*]);)
    }

    fn schema_body(&self) -> TokenStream {
        let p = &self.p;
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
                let mut __s = #p::null();
                #describe
                __s
            },
            (Data::Enum(variants), Members::Enum(attrs)) => self.enum_body(variants, attrs),
            _ => quote!(#p::null()),
        }
    }

    /// A field's schema with its docs and constraints applied.
    fn member_schema(&self, field: &Field<'_>, attrs: &Member) -> TokenStream {
        let p = &self.p;
        let ty = field.ty;
        let annotations = self.annotations(attrs);
        quote! {
            let mut __f = __g.subschema_for::<#ty>();
            #p::annotate(__g, &mut __f, &#annotations);
            __f
        }
    }

    fn annotations(&self, attrs: &Member) -> TokenStream {
        let p = &self.p;
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
            #p::Annotations {
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
        let p = &self.p;
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
                    #p::flatten(&mut __s, __g, __f, #optional);
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
                #p::property(&mut __s, #name, __f, #required);
            });
        }
        let close = deny_unknown.then(|| quote!(#p::close(&mut __s);));
        quote! {
            let mut __s = #p::object();
            #(#steps)*
            #close
            __s
        }
    }

    fn enum_body(&self, variants: &[Variant<'_>], attrs: &[(Member, Vec<Member>)]) -> TokenStream {
        let p = &self.p;
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
                let mut __s = #p::unit_enum(&[#(#entries),*]);
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
                    #p::describe(&mut __v, #description, &[#(#examples),*]);
                    __v
                }}
            })
            .collect();
        let key = if any_untagged { "anyOf" } else { "oneOf" };
        quote! {
            let mut __s = #p::union(#key, ::std::vec![#(#branches),*]);
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
        let p = &self.p;
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
                None => quote!(#p::constant(#name)),
                Some((schema, _)) => quote!(#p::externally_tagged(#name, { #schema })),
            },
            TagType::Internal { tag } => match content {
                None => quote!(#p::internally_tagged(#p::object(), #tag, #name)),
                Some((schema, _)) if is_struct => {
                    quote!(#p::internally_tagged({ #schema }, #tag, #name))
                }
                Some((_, ty)) => {
                    quote!(#p::internally_tagged(#p::inline_object::<#ty>(__g), #tag, #name))
                }
            },
            TagType::Adjacent { tag, content: key } => match content {
                None => {
                    quote!(#p::adjacently_tagged(#tag, #key, #name, ::core::option::Option::None))
                }
                Some((schema, _)) => {
                    quote!(#p::adjacently_tagged(#tag, #key, #name, ::core::option::Option::Some({ #schema })))
                }
            },
            TagType::None => match content {
                None => quote!(#p::null()),
                Some((schema, _)) => schema,
            },
        }
    }

    // ---- Extract ---------------------------------------------------------------------

    fn extract_impl(&self) -> TokenStream {
        let p = &self.p;
        let krate = &self.krate;
        let ident = self.ident();
        let generics = self.bounded(&[quote!(#p::JsonSchema), quote!('static)]);
        let (impl_g, ty_g, where_c) = generics.split_for_impl();
        let mut where_c = where_c.cloned().unwrap_or_else(|| parse_quote!(where));
        where_c
            .predicates
            .push(parse_quote!(#ident #ty_g: #p::serde::de::DeserializeOwned));
        let instructions = opt_str(self.input.attrs.instructions.as_deref());
        // A `static` in a generic impl would be shared by every instantiation, so only
        // non-generic types get their own cell; generic ones use the shared map.
        let schema_fn = (!self.input.is_generic()).then(|| {
            quote! {
                fn schema() -> &'static #krate::Schema {
                    static __CELL: ::std::sync::OnceLock<#krate::Schema> = ::std::sync::OnceLock::new();
                    #p::static_schema::<Self>(&__CELL)
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
        let p = &self.p;
        let container = self.input.attrs.validate.as_ref().map(|f| {
            quote_spanned!(f.span()=> #p::check(#f(self), __path, ::core::option::Option::None, __out);)
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
                let p = &self.p;
                let push = prefix.map(|seg| quote!(#p::push_key(__path, #seg);));
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
        let p = &self.p;
        if field.attrs.skip_deserializing() {
            return TokenStream::new();
        }
        let nested = nested(p, field.ty, access, 0);
        let validator = attrs.validate.as_ref().map(|f| {
            quote_spanned!(f.span()=> #p::check(#f(#access), __path, ::core::option::Option::None, __out);)
        });
        if nested.is_empty() && validator.is_none() {
            return TokenStream::new();
        }
        let push = (keyed && !field.attrs.flatten()).then(|| {
            let name = field.attrs.name().deserialize_name();
            quote!(#p::push_key(__path, #name);)
        });
        quote! {{
            let __len = __path.len();
            #push
            #nested
            #validator
            __path.truncate(__len);
        }}
    }

    // ---- strict ----------------------------------------------------------------------

    fn strict_impl(&self) -> TokenStream {
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

/// Nested validation for a value of type `ty` reached through `value` (an expression of
/// type `&ty`). `Option`, `Box` and the common collections are peeled here, because the
/// probe resolves on the concrete element type.
fn nested(p: &TokenStream, ty: &Type, value: &TokenStream, depth: usize) -> TokenStream {
    if depth > 4 {
        return probe(p, value);
    }
    let v = format_ident!("__v{depth}");
    let i = format_ident!("__i{depth}");
    match ty::last_segment(ty) {
        Some((name, Some(inner))) => match name.as_str() {
            "Option" => {
                let body = nested(p, inner, &quote!(#v), depth + 1);
                if body.is_empty() {
                    return body;
                }
                quote! {
                    if let ::core::option::Option::Some(#v) = #value { #body }
                }
            }
            "Box" | "Rc" | "Arc" => {
                let body = nested(p, inner, &quote!(#v), depth + 1);
                if body.is_empty() {
                    return body;
                }
                quote! {{
                    let #v: &#inner = &**#value;
                    #body
                }}
            }
            "Vec" | "VecDeque" | "LinkedList" => {
                let body = nested(p, inner, &quote!(#v), depth + 1);
                if body.is_empty() {
                    return body;
                }
                quote! {
                    for (#i, #v) in ::core::iter::Iterator::enumerate(::core::iter::IntoIterator::into_iter(#value)) {
                        let __item = __path.len();
                        #p::push_index(__path, #i);
                        #body
                        __path.truncate(__item);
                    }
                }
            }
            "HashMap" | "BTreeMap" => {
                let key_is_string = ty::kind(inner) == Kind::String;
                let Some(value_ty) = ty::second_arg(ty) else {
                    return TokenStream::new();
                };
                let body = nested(p, value_ty, &quote!(#v), depth + 1);
                if body.is_empty() || !key_is_string {
                    return TokenStream::new();
                }
                let k = format_ident!("__k{depth}");
                quote! {
                    for (#k, #v) in #value {
                        let __item = __path.len();
                        #p::push_key(__path, ::core::convert::AsRef::<str>::as_ref(#k));
                        #body
                        __path.truncate(__item);
                    }
                }
            }
            _ if matches!(
                ty::kind(ty),
                Kind::Number | Kind::String | Kind::Bool | Kind::Array | Kind::Map
            ) =>
            {
                TokenStream::new()
            }
            _ => probe(p, value),
        },
        _ if matches!(
            ty::kind(ty),
            Kind::Number | Kind::String | Kind::Bool | Kind::Array | Kind::Map
        ) =>
        {
            TokenStream::new()
        }
        _ => probe(p, value),
    }
}

fn probe(p: &TokenStream, value: &TokenStream) -> TokenStream {
    quote! {{
        #[allow(unused_imports)]
        use #p::{ViaExtract as _, ViaNothing as _};
        (&#p::Probe(#value)).nested(__path, __out);
    }}
}

fn opt(value: Option<TokenStream>) -> TokenStream {
    if let Some(v) = value {
        quote!(::core::option::Option::Some(#v))
    } else {
        quote!(::core::option::Option::None)
    }
}

fn opt_str(value: Option<&str>) -> TokenStream {
    opt(value.map(|s| quote!(#s)))
}
