//! What `#[derive(Extract)]` expands to calls into this module, so that the expansion stays
//! small and every emitted path is absolute. Nothing here is public API. It mirrors the
//! derive's `expand/`: `schema` builds the source schema, `validate` runs validators and
//! nested checks, `partial` reads partial values while a reply streams, `strict` holds the
//! OpenAI strict-mode marker. Every item the expansion names is re-exported here, so paths
//! read `__private::NAME`.

#![allow(
    missing_docs,
    clippy::missing_panics_doc,
    reason = "hidden support code for the derive's expansions, documented for maintainers only"
)]

mod partial;
mod schema;
mod strict;
mod validate;

pub use schemars;
pub use schemars::{JsonSchema, Schema as JsonSchemaDoc, SchemaGenerator};
pub use serde;
pub use serde_json::{Map, Value};
pub use std::borrow::Cow;

pub use partial::{
    assert_partial, content_or_empty, done, external, list, member, open_object, tag,
};
pub use schema::{
    Annotations, adjacently_tagged, annotate, close, constant, describe_container,
    externally_tagged, flatten, generic_name, inline_object, internally_tagged, null, object,
    property, static_schema, union, unit_enum,
};
pub use strict::{StrictSchema, assert_strict};
pub use validate::{Probe, ViaExtract, ViaNothing, push_index, push_key, run_validator};
