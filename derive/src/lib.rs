//! The `#[derive(Extract)]` macro for [factum](https://docs.rs/factum).
//!
//! Use it through `factum::Extract`; this crate is an implementation detail. The phases
//! live apart, as in serde_derive and thiserror: `attr` reads our attributes, `ast` joins
//! them with serde's view of the type, `check` states the cross-item rules, `expand`
//! generates the code.

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

/// Derives `factum::Extract` and `schemars::JsonSchema` (the source schema) for a struct or
/// enum that also derives serde's `Deserialize`. See `factum::Extract` for the attributes.
#[proc_macro_derive(Extract, attributes(extract))]
pub fn derive_extract(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    derive(&input).into()
}

fn derive(input: &DeriveInput) -> proc_macro2::TokenStream {
    let errors = ctxt::Errors::default();
    let parsed = ast::parse(input, &errors);
    let (output, schemars, krate) = match &parsed {
        Ok(parsed) => {
            check::check(parsed, &errors);
            (
                expand::expand(parsed),
                parsed.attrs.schemars.is_some(),
                parsed.attrs.krate.clone(),
            )
        }
        Err(ast::Failure::Serde) => {
            // serde's own derive reports its attribute errors; adding ours would only
            // repeat them. Nothing is emitted, so `Extract` is simply not implemented.
            let _ = errors.finish();
            return proc_macro2::TokenStream::new();
        }
        Err(ast::Failure::Ours) => (proc_macro2::TokenStream::new(), false, None),
    };
    match errors.finish() {
        Ok(()) => output,
        Err(error) => {
            let mut tokens = error.into_compile_error();
            tokens.extend(fallback::expand(input, schemars, krate.as_ref()));
            tokens
        }
    }
}
