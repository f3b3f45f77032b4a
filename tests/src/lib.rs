//! Shared helpers for the integration tests.

pub mod http;
pub mod llama;
pub mod prefix;
pub mod scripted;
pub mod slots;
pub mod sse;
pub mod strict;
pub mod zoo;
