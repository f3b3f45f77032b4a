//! The loopback HTTP tests, one module per topic. Each test points a real client at a
//! wiremock server (or, for replies wiremock cannot send, a raw TCP server) on 127.0.0.1;
//! the shared pieces are in `factum_tests::http`. The pipeline's judgement (re-asks,
//! leniency, grounding, collections) is tested where HTTP is not, on the scripted client:
//! the `judgement` binary.

mod batch;
mod batch_file;
mod chunk_journal;
mod chunk_stream;
mod client;
mod first_hour;
// The roster server of the chunk journal tests.
mod ground;
mod lists;
mod long_jobs;
mod providers;
mod retry;
mod safety;
mod stream;
mod tracing;
