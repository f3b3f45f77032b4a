//! Shared helpers for the integration tests.

pub mod http;
pub mod strict;
pub mod zoo;
