//! Compile-time tests: every derive error has a case with its exact message, and every
//! supported shape compiles and runs.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("ui/fail/*.rs");
    cases.pass("ui/pass/*.rs");
}
