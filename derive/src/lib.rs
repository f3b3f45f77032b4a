extern crate proc_macro; #[proc_macro_derive(Extract, attributes(extract))] pub fn d(_i: proc_macro::TokenStream) -> proc_macro::TokenStream { proc_macro::TokenStream::new() }
