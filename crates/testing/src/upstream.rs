//! Upstream runtimes the differential tests place on the devnet (test data, never committed):
//! Rhinestone's OwnableValidator, read from the core-modules directory beside the Smart Sessions
//! one (`$MANDATE_UPSTREAM_DIR/../core-modules-1f97c29`).

use std::path::PathBuf;

use alloy_primitives::{Bytes, hex};

/// The core-modules directory the runtimes are read from.
pub const CORE_MODULES_DIR: &str = "core-modules-1f97c29";

/// Rhinestone's OwnableValidator runtime (core-modules 1f97c29); panics with the reason if
/// `MANDATE_UPSTREAM_DIR` is unset or the file is missing.
pub fn ownable_validator_runtime() -> Bytes {
    let dir = std::env::var("MANDATE_UPSTREAM_DIR")
        .expect("MANDATE_UPSTREAM_DIR is set (the smartsessions runtime directory)");
    let path =
        PathBuf::from(dir).join("..").join(CORE_MODULES_DIR).join("OwnableValidator.runtime.hex");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let code =
        hex::decode(text.trim()).unwrap_or_else(|e| panic!("{} is not hex: {e}", path.display()));
    assert!(!code.is_empty(), "{} is empty", path.display());
    code.into()
}
