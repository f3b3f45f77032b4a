/// The error.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Placeholder.
    #[error("placeholder")]
    Placeholder,
}
/// Result.
pub type Result<T, E = Error> = std::result::Result<T, E>;
