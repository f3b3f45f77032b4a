//! The `#[derive(Extract)]` macro for [factum](https://docs.rs/factum).
//!
//! Use it through `factum::Extract`; this crate is an implementation detail. The phases
//! live apart, as in serde_derive and thiserror: `attr` reads our attributes, `ast` joins
//! them with serde's view of the type, `check` states the cross-item rules, `expand`
//! generates the code, and `fallback` emits stub impls beside the errors. Errors gather in
//! `ctxt`'s context, so one compile reports all of them; `ty` reads field types' syntax.

extern crate proc_macro;

mod ast;
mod attr;
mod check;
mod ctxt;
mod expand;
mod fallback;
mod ty;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

use crate::ctxt::Ctxt;

/// Derives `factum::Extract` and `schemars::JsonSchema` (the source schema) for a struct or
/// enum that also derives serde's `Deserialize`. See `factum::Extract` for the attributes.
#[proc_macro_derive(Extract, attributes(extract))]
pub fn derive_extract(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    derive(&input).into()
}

/// Parse → check → expand, or the errors with stub impls (thiserror's shape).
fn derive(input: &DeriveInput) -> proc_macro2::TokenStream {
    let cx = Ctxt::new();
    let serde = ast::serde_view(input, &cx);
    let parsed = serde
        .as_ref()
        .map(|serde| ast::Input::from_serde(serde, &cx));
    if let Some(parsed) = &parsed {
        check::check(parsed, &cx);
    }
    match cx.check() {
        Ok(()) => parsed
            .map(|parsed| expand::expand(&parsed))
            .unwrap_or_default(),
        Err(errors) => fallback::expand(input, errors),
    }
}
