//! The loopback HTTP tests, one module per topic. Each test points a real client at a
//! wiremock server (or, for replies wiremock cannot send, a raw TCP server) on 127.0.0.1;
//! the shared pieces are in `factum_tests::http`.

mod batch;
mod chunk_journal;
mod client;
mod collections;
mod first_hour;
mod ground;
mod grounding;
mod lenient;
mod lists;
mod long_jobs;
mod providers;
mod reask;
mod retry;
mod safety;
mod stream;
mod tracing;
