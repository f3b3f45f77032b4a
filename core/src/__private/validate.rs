//! Support for the derive's `validate_into`: running one user validator, the autoref
//! probe that recurses into nested `Extract` values, and JSON-pointer segments.

use crate::json;
use crate::{Extract, Violation};

/// Runs one user validator and records its failure at `path / segment`: a plain message
/// at the validated value, a [`Violation`] at its own path below it.
pub fn run_validator<E: Into<Violation>>(
    result: Result<(), E>,
    path: &mut String,
    segment: Option<&str>,
    out: &mut Vec<Violation>,
) {
    if let Err(error) = result {
        let violation = error.into();
        let len = path.len();
        if let Some(segment) = segment {
            json::push_key(path, segment);
        }
        let relative = violation.path.trim_end_matches('/');
        if !relative.is_empty() && !relative.starts_with('/') {
            path.push('/');
        }
        path.push_str(relative);
        out.push(Violation::new(path.clone(), violation.message));
        path.truncate(len);
    }
}

/// Wraps a field for autoref-based dispatch: `(&Probe(&field)).nested(..)` picks
/// [`ViaExtract`] when the field's type implements `Extract` and the no-op [`ViaNothing`]
/// otherwise. Stable Rust has no specialization; this is the usual method-resolution trick.
/// It resolves on the concrete field type, so the derive peels `Option`, `Vec` and `Box`
/// itself and probes the element type.
pub struct Probe<'a, T: ?Sized>(pub &'a T);

pub trait ViaExtract {
    fn nested(&self, path: &mut String, out: &mut Vec<Violation>);
}

pub trait ViaNothing {
    fn nested(&self, path: &mut String, out: &mut Vec<Violation>);
}

impl<T: Extract> ViaExtract for Probe<'_, T> {
    fn nested(&self, path: &mut String, out: &mut Vec<Violation>) {
        self.0.validate_into(path, out);
    }
}

impl<T: ?Sized> ViaNothing for &Probe<'_, T> {
    fn nested(&self, _: &mut String, _: &mut Vec<Violation>) {}
}

/// Appends a key segment to a JSON pointer; the derive truncates it back afterwards.
pub fn push_key(path: &mut String, key: &str) {
    json::push_key(path, key);
}

/// Appends an array index segment to a JSON pointer.
pub fn push_index(path: &mut String, index: usize) {
    json::push_index(path, index);
}
