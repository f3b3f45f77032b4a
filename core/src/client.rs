//! Placeholder: the HTTP client is being written.
/// The client.
#[derive(Debug, Clone)]
pub struct Client;
/// The builder.
#[derive(Debug)]
pub struct ClientBuilder;
