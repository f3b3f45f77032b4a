//! Shared helpers for the integration tests.

pub mod strict;
pub mod zoo;
