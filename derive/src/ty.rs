//! What a field's type is, read off its syntax. Used only where a wrong guess costs at
//! most a missed diagnostic: a type alias or a user type is `Unknown` and accepted.

use syn::{GenericArgument, PathArguments, Type};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Number,
    String,
    Bool,
    Array,
    Map,
    Unknown,
}

impl Kind {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Kind::Number => "a number",
            Kind::String => "a string",
            Kind::Bool => "a bool",
            Kind::Array => "a list",
            Kind::Map => "a map",
            Kind::Unknown => "a value",
        }
    }
}

fn ungroup(mut ty: &Type) -> &Type {
    loop {
        match ty {
            Type::Group(g) => ty = &g.elem,
            Type::Paren(p) => ty = &p.elem,
            _ => return ty,
        }
    }
}

/// The last path segment's name and its first type argument, if any.
pub(crate) fn last_segment(ty: &Type) -> Option<(String, Option<&Type>)> {
    let Type::Path(path) = ungroup(ty) else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let segment = path.path.segments.last()?;
    let arg = match &segment.arguments {
        PathArguments::AngleBracketed(args) => args.args.iter().find_map(|a| match a {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    };
    Some((segment.ident.to_string(), arg))
}

/// The second type argument (a map's value type).
pub(crate) fn second_arg(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ungroup(ty) else {
        return None;
    };
    let segment = path.path.segments.last()?;
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    args.args
        .iter()
        .filter_map(|a| match a {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        })
        .nth(1)
}

/// Whether `ty` is text owned by the value: `String`, or `str` behind `Box`, `Rc`, `Arc`
/// or `Cow` (not an `Option` of it).
pub(crate) fn is_string(ty: &Type) -> bool {
    match last_segment(ty) {
        Some((name, None)) => name == "String",
        Some((name, Some(inner))) => {
            matches!(name.as_str(), "Box" | "Rc" | "Arc" | "Cow") && is_str(inner)
        }
        None => false,
    }
}

/// The `&'static` reference `ty` is, or holds as a type argument (`Option<&'static str>`).
pub(crate) fn static_reference(ty: &Type) -> Option<&syn::TypeReference> {
    match ungroup(ty) {
        Type::Reference(r) if r.lifetime.as_ref().is_some_and(|l| l.ident == "static") => Some(r),
        _ => last_segment(ty).and_then(|(_, arg)| static_reference(arg?)),
    }
}

/// Whether `ty` is `str` itself.
pub(crate) fn is_str(ty: &Type) -> bool {
    matches!(last_segment(ty), Some((name, None)) if name == "str")
}

/// Whether `ty` is one of the integer types a map key may be (`HashMap<u32, V>`).
pub(crate) fn is_integer_key(ty: &Type) -> bool {
    matches!(
        last_segment(ty),
        Some((name, None)) if matches!(
            name.as_str(),
            "u8" | "u16" | "u32" | "u64" | "usize" | "i8" | "i16" | "i32" | "i64" | "isize"
        )
    )
}

pub(crate) fn is_option(ty: &Type) -> bool {
    matches!(last_segment(ty), Some((name, Some(_))) if name == "Option")
}

pub(crate) fn kind(ty: &Type) -> Kind {
    match ungroup(ty) {
        Type::Reference(r) => kind(&r.elem),
        Type::Tuple(t) if t.elems.is_empty() => Kind::Unknown,
        Type::Array(_) | Type::Slice(_) | Type::Tuple(_) => Kind::Array,
        _ => match last_segment(ty) {
            Some((name, arg)) => match name.as_str() {
                "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64"
                | "i128" | "isize" | "f32" | "f64" | "NonZeroU8" | "NonZeroU16" | "NonZeroU32"
                | "NonZeroU64" | "NonZeroUsize" | "NonZeroI8" | "NonZeroI16" | "NonZeroI32"
                | "NonZeroI64" | "NonZeroIsize" | "Decimal" => Kind::Number,
                "String" | "str" | "char" => Kind::String,
                "bool" => Kind::Bool,
                "Vec" | "VecDeque" | "HashSet" | "BTreeSet" | "LinkedList" | "BinaryHeap" => {
                    Kind::Array
                }
                "HashMap" | "BTreeMap" | "IndexMap" => Kind::Map,
                "Option" | "Box" | "Rc" | "Arc" | "Cow" => arg.map_or(Kind::Unknown, kind),
                _ => Kind::Unknown,
            },
            None => Kind::Unknown,
        },
    }
}

/// Whether a value of `ty` can be quoted from a text: a string, or a list of strings,
/// through `Option` and pointer wrappers. Types the derive cannot see through are accepted.
pub(crate) fn is_quotable(ty: &Type) -> bool {
    match kind(ty) {
        Kind::String | Kind::Unknown => true,
        Kind::Array => {
            element(ty).is_none_or(|item| matches!(kind(item), Kind::String | Kind::Unknown))
        }
        Kind::Number | Kind::Bool | Kind::Map => false,
    }
}

/// The item type of a list type, through `Option` and pointer wrappers.
fn element(ty: &Type) -> Option<&Type> {
    match ungroup(ty) {
        Type::Reference(r) => element(&r.elem),
        Type::Array(a) => Some(&a.elem),
        Type::Slice(s) => Some(&s.elem),
        _ => match last_segment(ty)? {
            (name, Some(arg))
                if matches!(name.as_str(), "Option" | "Box" | "Rc" | "Arc" | "Cow") =>
            {
                element(arg)
            }
            (_, arg) => arg,
        },
    }
}

/// What a type that cannot be quoted is, for the diagnostic: `a number`, `a list of bools`.
pub(crate) fn describe_quoted(ty: &Type) -> String {
    match (kind(ty), element(ty)) {
        (Kind::Array, Some(item)) => format!("a list of {}s", &kind(item).describe()[2..]),
        (kind, _) => kind.describe().to_owned(),
    }
}
