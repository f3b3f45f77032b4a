//! The `factum` binary run as a user runs it, against a loopback server: what it prints,
//! what it writes, what it sends, and its exit codes.

#![allow(
    clippy::missing_panics_doc,
    reason = "test support: every panic is the failure of the test that called it"
)]

mod batch;
mod extract;
mod schema;
mod support;
