/// Providers.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Provider {
    /// Dria.
    Dria,
}
