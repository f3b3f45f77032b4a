//! The pipeline's judgement on the scripted client, no HTTP: re-asks and their feedback,
//! the lenient parser, collections, grounding, chunking and passes. Each test gives a
//! client a [`factum::testing::Script`] of the model's replies and checks what the
//! pipeline made of them, and the request bodies it built (exactly as HTTP would send
//! them); the shared pieces are in `factum_tests::scripted`. What goes over the wire is
//! tested in the `http` binary.

mod collections;
mod dynamic;
mod ground;
mod grounding;
mod lenient;
mod prompt;
mod reask;
