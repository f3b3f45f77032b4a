//! The grammar a local model samples under: llama.cpp's JSON-Schema-to-GBNF converter
//! (`json_schema_to_grammar`, the one every Dria node runs) and the grammar sampler built
//! from its output. Public so that a schema can be checked against that converter with a
//! vocabulary alone, without a model's weights.

use std::path::{Path, PathBuf};

use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::sampling::LlamaSampler;
use serde_json::Value;

use crate::{Error, ErrorKind, Result};

/// The GBNF grammar llama.cpp's converter makes of `schema`, as a Dria node makes it.
///
/// Pass it a schema lowered for [`Dialect::LlamaCpp`](crate::Dialect::LlamaCpp), as the
/// local backend does. Where the converter cannot carry a keyword it widens the grammar and
/// prints "JSON schema conversion was incomplete" on the process's stderr (not through its
/// log), so a test that must see it reads stderr.
///
/// # Errors
///
/// [`ErrorKind::Schema`] when the converter rejects the schema. The pinned `llama-cpp-2`
/// (0.1.160) drops the converter's own message and reports only a status code.
pub fn grammar(schema: &Value) -> Result<String> {
    llama_cpp_2::json_schema_to_grammar(&schema.to_string()).map_err(|e| {
        Error::local(
            ErrorKind::Schema,
            format!("llama.cpp's json_schema_to_grammar rejected the schema ({e})"),
        )
    })
}

/// The grammar sampler for `gbnf`, its start rule `root`.
pub(super) fn sampler(model: &LlamaModel, gbnf: &str) -> Result<LlamaSampler> {
    LlamaSampler::grammar(model, gbnf, "root").map_err(|e| {
        Error::local(
            ErrorKind::Schema,
            format!("llama.cpp cannot build a grammar sampler from the converted schema ({e})"),
        )
    })
}

/// A GGUF file's vocabulary, loaded without the weights (llama.cpp's `vocab_only`): enough
/// to build grammar samplers, as a model would at the start of generation.
///
/// # Examples
///
/// ```no_run
/// # fn run() -> factum::Result<()> {
/// # #[derive(serde::Deserialize, factum::Extract)] struct Person { name: String }
/// let vocabulary = factum::local::Vocabulary::load("ggml-vocab-gpt-2.gguf")?;
/// let schema = factum::schema::<Person>().for_dialect(factum::Dialect::LlamaCpp).unwrap();
/// vocabulary.check(&factum::local::grammar(schema)?)?;
/// # Ok(()) }
/// ```
pub struct Vocabulary {
    model: LlamaModel,
    path: PathBuf,
}

impl std::fmt::Debug for Vocabulary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vocabulary")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl Vocabulary {
    /// Loads the vocabulary of the GGUF file at `path`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when the file is missing or llama.cpp cannot read it.
    pub fn load(path: impl AsRef<Path>) -> Result<Vocabulary> {
        let path = path.as_ref();
        if !path.is_file() {
            return Err(Error::config(format!(
                "no GGUF file at `{}`",
                path.display()
            )));
        }
        let backend = super::engine::backend()?;
        let params = LlamaModelParams::default().with_vocab_only(true);
        let model = LlamaModel::load_from_file(backend, path, &params).map_err(|e| {
            Error::config(format!(
                "llama.cpp cannot load the vocabulary at `{}`: {e}",
                path.display()
            ))
        })?;
        Ok(Vocabulary {
            model,
            path: path.to_owned(),
        })
    }

    /// Builds a grammar sampler from `gbnf` over this vocabulary, then drops it.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Schema`] when llama.cpp cannot parse the grammar.
    pub fn check(&self, gbnf: &str) -> Result<()> {
        sampler(&self.model, gbnf).map(drop)
    }
}
