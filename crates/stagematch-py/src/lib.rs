//! The Python face of stagematch.
//!
//! Milestone M2 turns this crate into the PyO3 extension module `stagematch._native`, built
//! with maturin into the Python package `stagematch`. Until then it only re-exports the core
//! so that the workspace layout already shows where the bindings live; it offers Python
//! nothing yet.

pub use stagematch_core as core;

/// The version of the package, shared with the core crate.
///
/// ```
/// assert_eq!(stagematch_py::version(), env!("CARGO_PKG_VERSION"));
/// ```
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
