//! mandate-abi's integration tests (one binary): JSON shapes, round trips, and the vectors the
//! pinned SDKs make (interop/).

// One crate of several sharing the package's dev-dependencies: not all of them are used here.
#![allow(unused_crate_dependencies)]
#![allow(clippy::unwrap_used)]

mod hostile;
mod json_shapes;
#[cfg(feature = "legacy-v2")]
mod legacy_v2_vectors;
mod roundtrip;
mod sdk_vectors;
