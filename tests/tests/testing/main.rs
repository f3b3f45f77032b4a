//! factum's test doubles as a user's tests use them: the scripted client (no HTTP, no
//! model), cassettes recorded against the real llama-server and replayed with none, and
//! the response cache, against a loopback server that counts requests.

mod cache;
mod cassette;
mod script;
