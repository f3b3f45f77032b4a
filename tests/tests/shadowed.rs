//! The expansion must not rely on the prelude: every name it uses is absolute. These
//! shadow the usual suspects, as serde's `test_gen.rs` does.
#![allow(
    dead_code,
    clippy::unnecessary_wraps,
    reason = "the shadowing items exist only to be in scope, and the validators always pass"
)]

mod shadowed {
    struct Result;
    struct Ok;
    struct Err;
    struct Some;
    struct None;
    struct Option;
    struct String;
    struct Vec;
    struct Box;
    struct Default;
    struct Iterator;
    struct IntoIterator;

    /// A record written under shadowed prelude names.
    #[derive(::serde::Deserialize, ::factum::Extract)]
    #[extract(instructions = "Shadowed.", validate = whole)]
    pub(crate) struct Record {
        /// A name.
        #[extract(length(min = 1), validate = named)]
        pub(crate) name: ::std::string::String,
        pub(crate) tags: ::std::vec::Vec<::std::string::String>,
        pub(crate) maybe: ::std::option::Option<u8>,
        pub(crate) inner: ::std::vec::Vec<Inner>,
        pub(crate) boxed: ::std::option::Option<::std::boxed::Box<Inner>>,
    }

    #[derive(::serde::Deserialize, ::factum::Extract)]
    pub(crate) struct Inner {
        #[extract(range(min = 0))]
        pub(crate) n: i32,
    }

    #[derive(::serde::Deserialize, ::factum::Extract)]
    #[serde(tag = "t")]
    pub(crate) enum Choice {
        A { inner: Inner },
        B,
    }

    #[derive(::serde::Deserialize, ::factum::Extract)]
    pub(crate) struct Generic<T> {
        pub(crate) items: ::std::vec::Vec<T>,
    }

    fn named(_: &::std::string::String) -> ::core::result::Result<(), ::std::string::String> {
        ::core::result::Result::Ok(())
    }

    fn whole(_: &Record) -> ::core::result::Result<(), ::std::string::String> {
        ::core::result::Result::Err("whole record rejected".into())
    }
}

#[test]
fn expansion_works_with_shadowed_prelude_names() {
    use factum::Extract;
    let schema = factum::schema::<shadowed::Record>();
    assert_eq!(schema.json()["properties"]["name"]["minLength"], 1);
    assert_eq!(schema.instructions(), Some("Shadowed."));
    assert!(factum::schema::<shadowed::Choice>().json()["oneOf"].is_array());
    assert_eq!(
        factum::schema::<shadowed::Generic<shadowed::Inner>>().name(),
        "Generic_for_Inner"
    );
    let record: shadowed::Record = serde_json::from_str(
        r#"{"name": "a", "tags": [], "maybe": null, "inner": [], "boxed": null}"#,
    )
    .unwrap();
    assert_eq!(
        record.validate().unwrap_err()[0].message,
        "whole record rejected"
    );
}
