//! No library: the tests are in `tests/`. See the package description.
