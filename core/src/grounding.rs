//! [`Grounding`]: which values are checked against the text by default.

/// Which values of a reply must be found in the text the extraction was given, besides the
/// fields marked `#[extract(grounded)]` (always checked, quoted exactly). Set it on
/// [`ClientBuilder::grounding`](crate::ClientBuilder::grounding) or per call on
/// [`Extraction::grounding`](crate::Extraction::grounding).
///
/// A checked value that is [`NotFound`](crate::Match::NotFound) in the text is fed back to
/// the model at its path ("… is not in the text; … use null if the text does not give
/// it"). Booleans, enums, `const`s and fields of `format: date`, `date-time` or `time` are
/// never checked (their values are rarely written verbatim), nor is a field marked
/// `#[extract(inferred)]` (a category, a sum, a normalized value: derived, not quoted).
///
/// # Examples
///
/// ```
/// let client = factum::Client::builder()
///     .base_url("http://127.0.0.1:8080/v1")
///     .model("m")
///     .grounding(factum::Grounding::All)
///     .build();
/// # let _ = client;
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Grounding {
    /// The default: the string and number values of optional fields (an `Option`, or a
    /// field with a default) are checked. One not found is re-asked once; if the re-ask
    /// still gives a value the text does not hold, it becomes `null` (or is left out, for a
    /// field with a default), recorded as a
    /// [`NotInText`](crate::parse::RepairKind::NotInText) repair: never an error. Small
    /// models invent optional values (an email, an age) far more than required ones.
    #[default]
    Optional,
    /// Every string and number value is checked, as `#[extract(grounded)]` checks a field,
    /// except that any place found counts (Fuzzy too): one not found is a violation,
    /// re-asked until the re-asks run out.
    All,
    /// Only `#[extract(grounded)]` fields are checked.
    Off,
}
