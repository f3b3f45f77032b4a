//! Every `Dialect::LlamaCpp` schema of the zoo through llama.cpp's own converter
//! (`json_schema_to_grammar`, the one every Dria node runs), and a grammar sampler built
//! from each grammar over a vocabulary-only GGUF (`tests/data/ggml-vocab-gpt-2.gguf`), so no
//! model is needed. A schema that fails here would fail on every Dria node.
//!
//! "Converts" means completely: where the converter cannot carry a pattern it widens the
//! grammar to any string and prints "JSON schema conversion was incomplete" with
//! `fprintf(stderr)`, not through llama.cpp's log. So the conversion runs in a child process
//! (this test binary again, running `zoo_child` only) and the parent fails on that line in
//! the child's stderr.

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use factum::Dialect;
use factum::local::{Vocabulary, grammar};
#[allow(clippy::wildcard_imports)] // the zoo macro names every type
use factum_tests::zoo::*;

/// Set in the child's environment: the child converts, the parent judges.
const CHILD: &str = "FACTUM_ZOO_GRAMMAR_CHILD";
/// What the converter prints when it widened a schema.
const INCOMPLETE: &str = "conversion was incomplete";
/// How many zoo types lower to the llama.cpp dialect: all of them.
const LOWERED: usize = 30;

fn vocabulary() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data/ggml-vocab-gpt-2.gguf")
}

/// The child's work: every zoo type that lowers to the llama.cpp dialect, converted and
/// built into a sampler; one `converted <type>` line per type on stdout.
fn convert_the_zoo() {
    let vocabulary = Vocabulary::load(vocabulary()).expect("the vocabulary-only GGUF loads");
    let mut converted = 0;
    macro_rules! convert {
        ($t:ty) => {{
            let name = stringify!($t);
            if let Ok(schema) = factum::schema::<$t>().for_dialect(Dialect::LlamaCpp) {
                // Each type's line first, so a warning on stderr follows the type it is about.
                eprintln!("converting {name}");
                let gbnf = grammar(schema).unwrap_or_else(|e| panic!("{name}: {e:?}"));
                vocabulary
                    .check(&gbnf)
                    .unwrap_or_else(|e| panic!("{name}: {e:?}\n{gbnf}"));
                println!("converted {name}");
                converted += 1;
            }
        }};
    }
    factum_tests::for_each_zoo_type!(convert);
    println!("converted {converted} types");
}

#[test]
fn zoo_child() {
    if std::env::var_os(CHILD).is_some() {
        convert_the_zoo();
    }
}

/// The types after whose `converting` line the child's stderr has the warning.
fn widened(stderr: &str) -> Vec<&str> {
    let mut current = None;
    let mut widened = Vec::new();
    for line in stderr.lines() {
        if let Some(name) = line.strip_prefix("converting ") {
            current = Some(name);
        } else if line.contains(INCOMPLETE) {
            widened.push(current.unwrap_or("(before any type)"));
        }
    }
    widened.dedup();
    widened
}

#[test]
fn every_llama_cpp_schema_of_the_zoo_converts_completely() {
    let output = Process::new(std::env::current_exe().unwrap())
        .args(["--exact", "zoo_child", "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .expect("the test binary runs again");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the conversion failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stdout.contains(&format!("converted {LOWERED} types")),
        "not every zoo type went through:\n{stdout}"
    );
    // Every type converts completely: the pattern rewriting in the llama.cpp dialect
    // leaves no `\d`, `\s` or other escape the converter would widen to any string.
    assert_eq!(
        widened(&stderr),
        Vec::<&str>::new(),
        "llama.cpp widened these types (each warning follows its type's `converting` \
         line):\n{stderr}"
    );
}

#[test]
fn a_schema_the_converter_rejects_is_a_schema_error() {
    let error = grammar(&serde_json::json!({"$ref": "#/$defs/Missing"})).unwrap_err();
    assert_eq!(error.kind(), factum::ErrorKind::Schema, "{error:?}");
}

#[test]
fn a_grammar_llama_cpp_cannot_parse_is_a_schema_error() {
    let vocabulary = Vocabulary::load(vocabulary()).unwrap();
    let error = vocabulary.check("root ::= ( \"a\"").unwrap_err();
    assert_eq!(error.kind(), factum::ErrorKind::Schema, "{error:?}");
    vocabulary.check("root ::= \"a\"").unwrap();
}

#[test]
fn the_converter_warning_is_seen_when_a_pattern_cannot_be_carried() {
    // The guard above is only as good as its detector: a look-ahead is beyond llama.cpp's
    // pattern subset, so the child must report it.
    if std::env::var_os(CHILD).is_some() {
        return;
    }
    let output = Process::new(std::env::current_exe().unwrap())
        .args(["--exact", "widened_child", "--nocapture"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains(INCOMPLETE), "{stderr}");
}

#[test]
fn widened_child() {
    if std::env::var_os(CHILD).is_some() {
        let schema = serde_json::json!({"type": "string", "pattern": "^(?=a)a$"});
        grammar(&schema).unwrap();
    }
}
