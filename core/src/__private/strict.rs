//! The OpenAI strict-mode marker that `#[extract(strict)]` requires of every field type.

use std::borrow::Cow;

/// Field types that OpenAI strict mode can express. `#[extract(strict)]` requires it of
/// every field type; derived types implement it when they are `strict` themselves.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used in an `#[extract(strict)]` type: OpenAI strict mode cannot express it",
    label = "not expressible in OpenAI strict mode",
    note = "strict mode needs closed objects with known keys: maps (`HashMap`, `BTreeMap`) and `serde_json::Value` have open keys; a nested type must itself be `#[extract(strict)]`"
)]
pub trait StrictSchema {}

macro_rules! strict {
    ($($ty:ty),*) => {$(impl StrictSchema for $ty {})*};
}
strict!(
    bool,
    u8,
    u16,
    u32,
    u64,
    u128,
    usize,
    i8,
    i16,
    i32,
    i64,
    i128,
    isize,
    f32,
    f64,
    char,
    String,
    str,
    std::num::NonZeroU8,
    std::num::NonZeroU16,
    std::num::NonZeroU32,
    std::num::NonZeroU64,
    std::num::NonZeroI8,
    std::num::NonZeroI16,
    std::num::NonZeroI32,
    std::num::NonZeroI64
);
impl<T: StrictSchema + ?Sized> StrictSchema for Box<T> {}
impl<T: StrictSchema> StrictSchema for Option<T> {}
impl<T: StrictSchema> StrictSchema for Vec<T> {}
impl<T: StrictSchema> StrictSchema for std::collections::VecDeque<T> {}
impl<T: StrictSchema, const N: usize> StrictSchema for [T; N] {}
impl<T: StrictSchema + ?Sized> StrictSchema for &T {}
impl<T: StrictSchema + ToOwned + ?Sized> StrictSchema for Cow<'_, T> {}

/// Compile-time proof used by the derive for `#[extract(strict)]`.
pub const fn assert_strict<T: StrictSchema + ?Sized>() {}
