//! The type's partial value, `{Ident}Partial`, and the items of the `Extract` impl that
//! read it (`type Partial`, `partial_from`).
//!
//! The partial is defined beside the type, with the type's visibility, fields and variants.
//! A field's type is read off its syntax: `Option`, `Box` and `Vec` are kept as wrappers
//! and the innermost type is projected through `PartialField`, so a `Vec<Uuid>` needs only
//! `Uuid: PartialField`. `Debug`, `Clone`, `PartialEq` and `Default` are written out here
//! rather than derived: a derive would bound every type parameter, and `Partial<Page<T>>`
//! must not need `T: Clone` or `T: Default`. `Serialize` is serde's derive, with the wire
//! names written on every field and variant.

use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use serde_derive_internals::ast::Style;
use serde_derive_internals::attr::TagType;
use syn::spanned::Spanned;
use syn::{GenericParam, Generics, Ident, Member, Type, WherePredicate, parse_quote};

use super::Codegen;
use crate::ast::{Data, Field, Variant};
use crate::attr::Stream;
use crate::ty;

/// A field's type as the partial reads it: the wrappers kept, around the innermost type.
enum Shape<'a> {
    Leaf(&'a Type),
    Boxed(Box<Shape<'a>>),
    List(Box<Shape<'a>>),
    Optional(Box<Shape<'a>>),
}

impl<'a> Shape<'a> {
    fn of(ty: &'a Type) -> Shape<'a> {
        let Some((name, Some(inner))) = ty::last_segment(ty) else {
            return Shape::Leaf(ty);
        };
        match name.as_str() {
            // `Option<Option<F>>` reads as one option: null and absent look alike.
            "Option" => match Shape::of(inner) {
                optional @ Shape::Optional(_) => optional,
                inner => Shape::Optional(Box::new(inner)),
            },
            // `Box<str>` is text, read as a whole like `String`.
            "Box" if ty::is_str(inner) => Shape::Leaf(ty),
            "Box" => Shape::Boxed(Box::new(Shape::of(inner))),
            "Vec" => Shape::List(Box::new(Shape::of(inner))),
            _ => Shape::Leaf(ty),
        }
    }

    fn leaf(&self) -> &'a Type {
        match self {
            Shape::Leaf(ty) => ty,
            Shape::Boxed(s) | Shape::List(s) | Shape::Optional(s) => s.leaf(),
        }
    }
}

/// One field of the partial.
struct Slot<'a> {
    field: &'a Field<'a>,
    /// The field's name or position in the partial.
    member: Member,
    shape: Shape<'a>,
}

/// A struct's body or one variant, as the partial's impls match on it.
struct Record<'a> {
    /// `Self` or `Self::Variant`.
    path: TokenStream,
    /// The variant, or `None` for a struct.
    variant: Option<&'a Variant<'a>>,
    style: Style,
    slots: Vec<Slot<'a>>,
}

impl Record<'_> {
    /// The pattern binding every field to `{prefix}{i}`, and the bindings.
    fn pattern(&self, prefix: &str) -> (TokenStream, Vec<Ident>) {
        let path = &self.path;
        let members: Vec<&Member> = self.slots.iter().map(|s| &s.member).collect();
        let bindings: Vec<Ident> = (0..members.len())
            .map(|i| format_ident!("{prefix}{i}"))
            .collect();
        (quote!(#path { #(#members: #bindings),* }), bindings)
    }

    /// A value of this record with every field from `values`.
    fn build(&self, values: impl IntoIterator<Item = TokenStream>) -> TokenStream {
        let path = &self.path;
        let members = self.slots.iter().map(|s| &s.member);
        let values = values.into_iter();
        quote!(#path { #(#members: #values),* })
    }
}

/// Whether a field is in the partial: serde reads it, and it is not `stream(skip)`.
fn in_partial(field: &Field<'_>) -> bool {
    !field.serde.attrs.skip_deserializing()
        && field.attrs.stream.as_ref().map(|s| s.value) != Some(Stream::Skip)
}

fn slots<'a>(fields: &'a [Field<'a>], style: Style) -> Vec<Slot<'a>> {
    fields
        .iter()
        .filter(|f| in_partial(f))
        .enumerate()
        .map(|(i, field)| Slot {
            field,
            member: match style {
                Style::Struct => field.serde.member.clone(),
                _ => Member::Unnamed(syn::Index::from(i)),
            },
            shape: Shape::of(field.serde.ty),
        })
        .collect()
}

/// Whether `tokens` name any of `params`.
fn mentions(tokens: TokenStream, params: &[Ident]) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(ident) => params.contains(&ident),
        TokenTree::Group(group) => mentions(group.stream(), params),
        _ => false,
    })
}

impl Codegen<'_> {
    fn partial_ident(&self) -> Ident {
        format_ident!("{}Partial", self.ident())
    }

    fn records(&self) -> Vec<Record<'_>> {
        match &self.input.data {
            Data::Struct(style, fields) => vec![Record {
                path: quote!(Self),
                variant: None,
                style: *style,
                slots: slots(fields, *style),
            }],
            Data::Enum(variants) => variants
                .iter()
                .filter(|v| !v.serde.attrs.skip_deserializing())
                .map(|variant| {
                    let ident = &variant.serde.ident;
                    Record {
                        path: quote!(Self::#ident),
                        variant: Some(variant),
                        style: variant.serde.style,
                        slots: slots(&variant.fields, variant.serde.style),
                    }
                })
                .collect(),
        }
    }

    /// The innermost field types of the partial that name a type parameter.
    fn generic_leaves(&self) -> Vec<&Type> {
        let params: Vec<Ident> = self.type_params().into_iter().cloned().collect();
        let mut leaves: Vec<&Type> = Vec::new();
        for field in self.input.fields().filter(|f| in_partial(f)) {
            let leaf = Shape::of(field.serde.ty).leaf();
            if mentions(quote!(#leaf), &params) && !leaves.contains(&leaf) {
                leaves.push(leaf);
            }
        }
        leaves
    }

    /// `F: PartialField` for every innermost field type that names a type parameter: what
    /// the partial's definition needs, and so the `Extract` impl too.
    pub(super) fn partial_bounds(&self) -> Vec<WherePredicate> {
        let krate = &self.krate;
        self.generic_leaves()
            .into_iter()
            .map(|leaf| parse_quote!(#leaf: #krate::stream::PartialField))
            .collect()
    }

    /// The type's generics, less the type parameters no field of the partial names (a
    /// struct cannot have unused ones), with the bounds the fields need.
    fn partial_generics(&self) -> Generics {
        let leaves = self.generic_leaves();
        let dropped: Vec<Ident> = self
            .type_params()
            .into_iter()
            .filter(|p| !leaves.iter().any(|l| mentions(quote!(#l), &[(*p).clone()])))
            .cloned()
            .collect();
        let mut generics = self.input.serde.generics.clone();
        generics.params = std::mem::take(&mut generics.params)
            .into_iter()
            .filter(|p| !matches!(p, GenericParam::Type(t) if dropped.contains(&t.ident)))
            .collect();
        for param in generics.type_params_mut() {
            param.bounds = std::mem::take(&mut param.bounds)
                .into_iter()
                .filter(|b| !mentions(quote!(#b), &dropped))
                .collect();
        }
        let where_c = generics.make_where_clause();
        where_c.predicates = std::mem::take(&mut where_c.predicates)
            .into_iter()
            .filter(|p| !mentions(quote!(#p), &dropped))
            .collect();
        where_c.predicates.extend(self.partial_bounds());
        generics
    }
}

/// Types and reading code of fields.
impl Codegen<'_> {
    fn projection(&self, leaf: &Type) -> TokenStream {
        let krate = &self.krate;
        quote_spanned!(leaf.span()=> <#leaf as #krate::stream::PartialField>::Partial)
    }

    /// The type of one element: an item of a list, the value inside an option.
    fn element_type(&self, shape: &Shape<'_>) -> TokenStream {
        match shape {
            Shape::Leaf(leaf) => self.projection(leaf),
            Shape::Boxed(s) => {
                let inner = self.element_type(s);
                quote!(::std::boxed::Box<#inner>)
            }
            Shape::List(s) => {
                let inner = self.element_type(s);
                quote!(::std::vec::Vec<#inner>)
            }
            Shape::Optional(s) => self.element_type(s),
        }
    }

    /// The type of a field: a list stays a list, anything else is an option.
    fn field_type(&self, shape: &Shape<'_>) -> TokenStream {
        match shape {
            Shape::List(_) => self.element_type(shape),
            Shape::Optional(s) => {
                let inner = self.element_type(s);
                quote!(::core::option::Option<#inner>)
            }
            _ => {
                let inner = self.element_type(shape);
                quote!(::core::option::Option<#inner>)
            }
        }
    }

    /// An `Option` of one element read from the node `node` (a `&Node`).
    fn read_element(&self, shape: &Shape<'_>, node: &Ident, depth: usize) -> TokenStream {
        let krate = &self.krate;
        let private = &self.private;
        match shape {
            Shape::Leaf(leaf) => quote_spanned! {leaf.span()=>
                <#leaf as #krate::stream::PartialField>::partial_from(#node)
            },
            Shape::Boxed(s) => {
                let inner = self.read_element(s, node, depth);
                quote!(#inner.map(::std::boxed::Box::new))
            }
            Shape::List(s) => {
                let item = format_ident!("__n{}", depth + 1);
                let inner = self.read_element(s, &item, depth + 1);
                quote!(#private::list(#node, |#item| #inner))
            }
            Shape::Optional(s) => self.read_element(s, node, depth),
        }
    }

    /// A field's value, read from `source` (an `Option<&Node>`: the object holding the
    /// field when `keyed`, else the field's own node).
    fn read_field(&self, slot: &Slot<'_>, source: &TokenStream, keyed: bool) -> TokenStream {
        let private = &self.private;
        let serde = &slot.field.serde.attrs;
        let mut node = source.clone();
        if keyed && !serde.flatten() {
            let name = serde.name().deserialize_name();
            let aliases = serde.aliases().iter().filter(|a| *a != name);
            node = quote!(#private::member(#node, &[#name #(, #aliases)*]));
        }
        if slot.field.attrs.stream.as_ref().map(|s| s.value) == Some(Stream::Done) {
            node = quote!(#private::done(#node));
        }
        let n = format_ident!("__n0");
        match &slot.shape {
            list @ Shape::List(_) => {
                let read = self.read_element(list, &n, 0);
                quote!(#node.and_then(|#n| #read).unwrap_or_default())
            }
            shape => {
                let read = self.read_element(shape, &n, 0);
                quote!(#node.and_then(|#n| #read))
            }
        }
    }

    /// The record's value, its fields read from `source` (an `Option<&Node>`).
    fn read_record(&self, record: &Record<'_>, source: &TokenStream, keyed: bool) -> TokenStream {
        let partial = self.partial_ident();
        let values = record
            .slots
            .iter()
            .map(|slot| self.read_field(slot, source, keyed));
        let path = if let Some(variant) = record.variant {
            let ident = &variant.serde.ident;
            quote!(#partial::#ident)
        } else {
            quote!(#partial)
        };
        let members = record.slots.iter().map(|s| &s.member);
        quote!(#path { #(#members: #values),* })
    }
}

/// The definition of the partial type.
impl Codegen<'_> {
    /// The partial type beside the user's, with its trait impls.
    pub(super) fn partial_type(&self) -> TokenStream {
        let records = self.records();
        let partial = self.partial_ident();
        let vis = &self.input.serde.original.vis;
        let generics = self.partial_generics();
        let where_c = &generics.where_clause;
        let ident = self.ident();
        let doc = format!(
            "`{ident}` as far as the model has written it, while a reply streams: `factum::Partial<{ident}>`."
        );
        let body = match &self.input.data {
            Data::Struct(style, _) => {
                let fields = self.fields_def(&records[0], true);
                match style {
                    Style::Struct => quote!(struct #partial #generics #where_c { #fields }),
                    Style::Unit => quote!(struct #partial #generics #where_c;),
                    _ => quote!(struct #partial #generics (#fields) #where_c;),
                }
            }
            Data::Enum(_) => {
                let variants = records.iter().map(|r| self.variant_def(r));
                quote!(enum #partial #generics #where_c { #(#variants)* })
            }
        };
        let private = &self.private;
        let serde = self.container_serde();
        let impls = self.partial_impls(&records, &generics);
        let choice = self.choice_from_partial(&records);
        let proof = self.partial_proof(&generics);
        quote! {
            #proof
            #[doc = #doc]
            #[derive(#private::serde::Serialize)]
            #serde
            #vis #body
            #impls
            #choice
        }
    }

    /// A compile-time proof that every field type has a partial form, so that a type
    /// without one is reported at its field (and first).
    fn partial_proof(&self, generics: &Generics) -> TokenStream {
        let private = &self.private;
        let (impl_g, _, where_c) = generics.split_for_impl();
        let asserts = self.input.fields().filter(|f| in_partial(f)).map(|f| {
            let leaf = Shape::of(f.serde.ty).leaf();
            quote_spanned!(leaf.span()=> #private::assert_partial::<#leaf>();)
        });
        quote! {
            const _: () = {
                #[allow(dead_code, clippy::extra_unused_type_parameters, reason = "a compile-time proof, never called; it names the type's parameters to bound them")]
                fn __factum_partial #impl_g () #where_c {
                    #(#asserts)*
                }
            };
        }
    }

    /// A choice (an enum of unit variants only) is whole once it shows: its partial
    /// converts back to it.
    fn choice_from_partial(&self, records: &[Record<'_>]) -> Option<TokenStream> {
        let Data::Enum(_) = &self.input.data else {
            return None;
        };
        if records.is_empty()
            || self.input.is_generic()
            || records.iter().any(|r| !matches!(r.style, Style::Unit))
        {
            return None;
        }
        let ident = self.ident();
        let partial = self.partial_ident();
        let variants = records
            .iter()
            .filter_map(|r| r.variant)
            .map(|v| &v.serde.ident);
        Some(quote! {
            #[automatically_derived]
            impl ::core::convert::From<#partial> for #ident {
                fn from(__partial: #partial) -> Self {
                    match __partial {
                        #(#partial::#variants => Self::#variants,)*
                    }
                }
            }
        })
    }

    /// serde's container attributes of the partial: the crate path, no inferred bounds (the
    /// where clause has them), and the enum's representation or `transparent`.
    fn container_serde(&self) -> TokenStream {
        let private = &self.private;
        let krate = quote!(#private::serde).to_string();
        let attrs = &self.input.serde.attrs;
        let shape = match (&self.input.data, attrs.tag()) {
            (Data::Struct(..), _) if attrs.transparent() => quote!(, transparent),
            (Data::Struct(..), _) | (_, TagType::External) => TokenStream::new(),
            (_, TagType::Internal { tag }) => quote!(, tag = #tag),
            (_, TagType::Adjacent { tag, content }) => quote!(, tag = #tag, content = #content),
            (_, TagType::None) => quote!(, untagged),
        };
        quote!(#[serde(crate = #krate, bound = "" #shape)])
    }

    /// A record's fields, with their docs and wire names; `vis` for a struct's.
    fn fields_def(&self, record: &Record<'_>, vis: bool) -> TokenStream {
        let vis = vis.then_some(&self.input.serde.original.vis);
        let internal_newtype = matches!(self.input.serde.attrs.tag(), TagType::Internal { .. })
            && matches!(record.style, Style::Newtype)
            && record.variant.is_some_and(|v| !v.serde.attrs.untagged());
        let fields = record.slots.iter().map(|slot| {
            let serde = &slot.field.serde.attrs;
            let ty = self.field_type(&slot.shape);
            let doc = slot
                .field
                .attrs
                .description
                .clone()
                .unwrap_or_else(|| match &slot.member {
                    Member::Named(ident) => format!("`{ident}` as far as it is written."),
                    Member::Unnamed(_) => "The value as far as it is written.".to_owned(),
                });
            let name = serde.name().deserialize_name();
            let attr = match &slot.member {
                _ if serde.flatten() => quote!(#[serde(flatten)]),
                Member::Named(_) => quote!(#[serde(rename = #name)]),
                Member::Unnamed(_) if internal_newtype => {
                    let path = self.private_fn("content_or_empty");
                    quote!(#[serde(serialize_with = #path)])
                }
                Member::Unnamed(_) => TokenStream::new(),
            };
            match &slot.member {
                Member::Named(ident) => quote!(#[doc = #doc] #attr #vis #ident: #ty),
                Member::Unnamed(_) => quote!(#[doc = #doc] #attr #vis #ty),
            }
        });
        quote!(#(#fields),*)
    }

    /// The path to a support function, as a string for a serde attribute.
    fn private_fn(&self, name: &str) -> String {
        let private = &self.private;
        format!("{}::{name}", quote!(#private))
    }

    fn variant_def(&self, record: &Record<'_>) -> TokenStream {
        let Some(variant) = record.variant else {
            return TokenStream::new();
        };
        let ident = &variant.serde.ident;
        let doc = variant
            .attrs
            .description
            .clone()
            .unwrap_or_else(|| format!("The `{ident}` choice."));
        let name = variant.serde.attrs.name().deserialize_name();
        let untagged = variant
            .serde
            .attrs
            .untagged()
            .then(|| quote!(#[serde(untagged)]));
        let fields = self.fields_def(record, false);
        let body = match record.style {
            Style::Struct => quote!({ #fields }),
            Style::Unit => TokenStream::new(),
            _ => quote!((#fields)),
        };
        quote!(#[doc = #doc] #[serde(rename = #name)] #untagged #ident #body,)
    }
}

/// `Debug`, `Clone`, `PartialEq` and `Default`, written out (see the module's comment).
impl Codegen<'_> {
    fn partial_impls(&self, records: &[Record<'_>], generics: &Generics) -> TokenStream {
        let partial = self.partial_ident();
        let (impl_g, ty_g, where_c) = generics.split_for_impl();
        let clone = Self::clone_body(records);
        let debug = self.debug_body(records);
        let eq = Self::eq_body(records);
        let default = records.first().map(|first| {
            let body = first.build(
                first
                    .slots
                    .iter()
                    .map(|_| quote!(::core::default::Default::default())),
            );
            quote! {
                #[automatically_derived]
                impl #impl_g ::core::default::Default for #partial #ty_g #where_c {
                    fn default() -> Self { #body }
                }
            }
        });
        quote! {
            #[automatically_derived]
            impl #impl_g ::core::clone::Clone for #partial #ty_g #where_c {
                fn clone(&self) -> Self { #clone }
            }
            #[automatically_derived]
            impl #impl_g ::core::fmt::Debug for #partial #ty_g #where_c {
                fn fmt(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result { #debug }
            }
            #[automatically_derived]
            impl #impl_g ::core::cmp::PartialEq for #partial #ty_g #where_c {
                #[allow(unreachable_patterns, reason = "with one variant the catch-all is unreachable")]
                fn eq(&self, __other: &Self) -> bool { #eq }
            }
            #default
        }
    }

    /// `match self` over `arms`; an enum without variants has no value to match.
    fn match_self(records: &[Record<'_>], arms: impl Iterator<Item = TokenStream>) -> TokenStream {
        if records.is_empty() {
            quote!(match *self {})
        } else {
            quote!(match self { #(#arms)* })
        }
    }

    fn clone_body(records: &[Record<'_>]) -> TokenStream {
        let arms = records.iter().map(|record| {
            let (pattern, bindings) = record.pattern("__a");
            let value = record.build(
                bindings
                    .iter()
                    .map(|b| quote!(::core::clone::Clone::clone(#b))),
            );
            quote!(#pattern => #value,)
        });
        Self::match_self(records, arms)
    }

    fn debug_body(&self, records: &[Record<'_>]) -> TokenStream {
        let arms = records.iter().map(|record| {
            let (pattern, bindings) = record.pattern("__a");
            let name = record.variant.map_or_else(
                || self.partial_ident().to_string(),
                |v| v.serde.ident.to_string(),
            );
            let body = match record.style {
                Style::Struct => {
                    let names = record.slots.iter().map(|s| match &s.member {
                        Member::Named(ident) => ident.to_string(),
                        Member::Unnamed(index) => index.index.to_string(),
                    });
                    quote!(__f.debug_struct(#name) #(.field(#names, #bindings))* .finish())
                }
                Style::Unit => quote!(__f.write_str(#name)),
                _ => quote!(__f.debug_tuple(#name) #(.field(#bindings))* .finish()),
            };
            quote!(#pattern => #body,)
        });
        Self::match_self(records, arms)
    }

    fn eq_body(records: &[Record<'_>]) -> TokenStream {
        let arms = records.iter().map(|record| {
            let (left, a) = record.pattern("__a");
            let (right, b) = record.pattern("__b");
            let all = if a.is_empty() {
                quote!(true)
            } else {
                quote!(#(#a == #b)&&*)
            };
            quote!((#left, #right) => #all,)
        });
        quote!(match (self, __other) { #(#arms)* _ => false })
    }
}

/// The `Extract` impl's items: `type Partial` and `partial_from`.
impl Codegen<'_> {
    pub(super) fn partial_items(&self) -> TokenStream {
        let krate = &self.krate;
        let partial = self.partial_ident();
        let generics = self.partial_generics();
        let (_, ty_g, _) = generics.split_for_impl();
        let records = self.records();
        let body = match &self.input.data {
            Data::Struct(..) => self.struct_read(&records[0]),
            Data::Enum(_) => self.enum_read(&records),
        };
        quote! {
            type Partial = #partial #ty_g;
            #[allow(unreachable_patterns, reason = "when every variant has an arm, the catch-all is unreachable")]
            // The partial's own name, not `Self::Partial`: a projection through `Self` would
            // report a missing `Deserialize` a second time.
            fn partial_from(__node: &#krate::stream::Node) -> ::core::option::Option<#partial #ty_g> {
                #body
            }
        }
    }

    /// A struct's partial: once its object opened; a newtype's or a transparent struct's,
    /// from the node itself.
    fn struct_read(&self, record: &Record<'_>) -> TokenStream {
        let private = &self.private;
        let source = quote!(__source);
        let keyed = matches!(record.style, Style::Struct) && !self.input.serde.attrs.transparent();
        let value = self.read_record(record, &source, keyed);
        let open = if keyed {
            quote!(#private::open_object(__node)?)
        } else {
            quote!(__node)
        };
        quote! {
            let #source = ::core::option::Option::Some(#open);
            ::core::option::Option::Some(#value)
        }
    }
}

/// Reading an enum's partial: once its tag is known.
impl Codegen<'_> {
    fn enum_read(&self, records: &[Record<'_>]) -> TokenStream {
        let krate = &self.krate;
        let untagged_all = matches!(self.input.serde.attrs.tag(), TagType::None);
        let (untagged, tagged): (Vec<&Record<'_>>, Vec<&Record<'_>>) = records
            .iter()
            .partition(|r| untagged_all || r.variant.is_some_and(|v| v.serde.attrs.untagged()));
        let tagged = (!tagged.is_empty()).then(|| self.tagged_read(&tagged));
        let untagged = (!untagged.is_empty()).then(|| self.untagged_read(&untagged));
        match (tagged, untagged) {
            (Some(tagged), None) => tagged,
            (None, Some(untagged)) => untagged,
            (Some(tagged), Some(untagged)) => quote! {
                let __tagged = |__node: &#krate::stream::Node| -> ::core::option::Option<Self::Partial> {
                    #tagged
                };
                match __tagged(__node) {
                    ::core::option::Option::Some(__partial) => ::core::option::Option::Some(__partial),
                    ::core::option::Option::None => { #untagged }
                }
            },
            (None, None) => quote!(::core::option::Option::None),
        }
    }

    /// Tagged variants: the variant is known once the tag is complete; its content, the
    /// node under the variant's key (external), the node itself (internal) or the content
    /// key's (adjacent), may have only begun.
    fn tagged_read(&self, records: &[&Record<'_>]) -> TokenStream {
        let private = &self.private;
        let preamble = match self.input.serde.attrs.tag() {
            TagType::Internal { tag } => quote! {
                let __tag = #private::tag(__node.get(#tag))?;
                let __content = ::core::option::Option::Some(__node);
            },
            TagType::Adjacent { tag, content } => quote! {
                let __tag = #private::tag(__node.get(#tag))?;
                let __content = __node.get(#content);
            },
            TagType::External | TagType::None => quote! {
                let (__tag, __content) = #private::external(__node)?;
            },
        };
        let content = quote!(__content);
        let mut fallback = quote!(::core::option::Option::None);
        let arms: Vec<TokenStream> = records
            .iter()
            .filter_map(|record| {
                let variant = record.variant?;
                let keyed = matches!(record.style, Style::Struct);
                let value = self.read_record(record, &content, keyed);
                if variant.serde.attrs.other() {
                    fallback = quote!(::core::option::Option::Some(#value));
                }
                let name = variant.serde.attrs.name().deserialize_name();
                let aliases = variant.serde.attrs.aliases().iter().filter(|a| *a != name);
                Some(quote!(#name #(| #aliases)* => ::core::option::Option::Some(#value),))
            })
            .collect();
        quote! {
            #preamble
            match __tag {
                #(#arms)*
                _ => #fallback,
            }
        }
    }

    /// Untagged variants: known once the value is complete, as the variant serde
    /// deserializes it to, and read from the whole node.
    fn untagged_read(&self, records: &[&Record<'_>]) -> TokenStream {
        let content = quote!(__content);
        let arms = records.iter().filter_map(|record| {
            let ident = &record.variant?.serde.ident;
            let keyed = matches!(record.style, Style::Struct);
            let value = self.read_record(record, &content, keyed);
            Some(quote! {
                ::core::option::Option::Some(Self::#ident { .. }) => ::core::option::Option::Some(#value),
            })
        });
        quote! {
            let __content = ::core::option::Option::Some(__node);
            match __node.complete::<Self>() {
                #(#arms)*
                _ => ::core::option::Option::None,
            }
        }
    }
}
