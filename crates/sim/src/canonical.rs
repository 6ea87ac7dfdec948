//! The canonical Smart Sessions deployment on the devnet: upstream's runtime bytecode (the
//! SmartSession, policies, compatibility fallback and OwnableValidator that real chains hold),
//! read from `<Name>.runtime.hex` files and placed at the addresses of
//! [`Deployments::MODULE_SDK_0_4`], so that the client runs against exactly what those chains
//! run. None of these runtimes has immutables, so placing the code is faithful.
//!
//! Mandate ships none of this bytecode: the caller names the directories that hold it.
//!
//! ```no_run
//! use mandate_sim::{Devnet, canonical::Runtimes};
//!
//! let runtimes = Runtimes::read(&["upstream/smartsessions", "upstream/core-modules"])?;
//! let mut devnet = Devnet::new()?;
//! let canonical = devnet.place_canonical(&runtimes);
//! assert!(devnet.has_code(canonical.smart_session));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::path::{Path, PathBuf};

use alloy_primitives::{Address, Bytes, hex};
use mandate_abi::Deployments;

use crate::Devnet;

/// Each contract of the canonical deployment: its name (the runtime file is
/// `<name>.runtime.hex`) and its address.
pub fn contracts() -> [(&'static str, Address); 9] {
    use mandate_abi::deployments::{COMPATIBILITY_FALLBACK, OWNABLE_VALIDATOR, SMART_SESSION};
    let p = Deployments::MODULE_SDK_0_4.policies;
    [
        ("SmartSession", SMART_SESSION),
        ("SudoPolicy", p.sudo),
        ("UniActionPolicy", p.uni_action),
        ("TimeFramePolicy", p.time_frame),
        ("ERC20SpendingLimitPolicy", p.erc20_spending_limit),
        ("UsageLimitPolicy", p.usage_limit),
        ("ValueLimitPolicy", p.value_limit),
        ("SmartSessionCompatibilityFallback", COMPATIBILITY_FALLBACK),
        ("OwnableValidator", OWNABLE_VALIDATOR),
    ]
}

/// What can go wrong reading the runtimes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RuntimeError {
    /// No directory holds the contract's runtime file.
    #[error("no {file} in any of {dirs:?}")]
    Missing {
        /// The file looked for.
        file: String,
        /// The directories searched.
        dirs: Vec<PathBuf>,
    },
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not hex, or empty.
    #[error("{path} holds no hex runtime bytecode")]
    NotHex {
        /// The file.
        path: PathBuf,
    },
}

/// The canonical deployment's runtime bytecode, each at its address.
#[derive(Clone, Debug)]
pub struct Runtimes {
    code: Vec<(&'static str, Address, Bytes)>,
}

impl Runtimes {
    /// Reads `<name>.runtime.hex` for every contract of [`contracts`] from the first of `dirs`
    /// that holds it.
    pub fn read<P: AsRef<Path>>(dirs: &[P]) -> Result<Self, RuntimeError> {
        let mut code = Vec::new();
        for (name, address) in contracts() {
            let file = format!("{name}.runtime.hex");
            let path = dirs.iter().map(|dir| dir.as_ref().join(&file)).find(|p| p.is_file());
            let path = path.ok_or_else(|| RuntimeError::Missing {
                file,
                dirs: dirs.iter().map(|d| d.as_ref().to_path_buf()).collect(),
            })?;
            let text = std::fs::read_to_string(&path)
                .map_err(|source| RuntimeError::Read { path: path.clone(), source })?;
            let runtime = hex::decode(text.trim())
                .map_err(|_| RuntimeError::NotHex { path: path.clone() })?;
            if runtime.is_empty() {
                return Err(RuntimeError::NotHex { path });
            }
            code.push((name, address, runtime.into()));
        }
        Ok(Self { code })
    }

    /// `(name, address, runtime)` of each contract.
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, Address, &Bytes)> + '_ {
        self.code.iter().map(|(name, address, code)| (*name, *address, code))
    }

    /// The runtime of the contract called `name`.
    pub fn get(&self, name: &str) -> Option<&Bytes> {
        self.code.iter().find(|(n, ..)| *n == name).map(|(.., code)| code)
    }
}

impl Devnet {
    /// Places `runtimes` at their canonical addresses and returns the canonical deployment
    /// ([`Deployments::MODULE_SDK_0_4`], whose EntryPoint the devnet holds too).
    pub fn place_canonical(&mut self, runtimes: &Runtimes) -> Deployments {
        for (_, address, code) in runtimes.iter() {
            self.set_code(address, code.clone());
        }
        Deployments::MODULE_SDK_0_4
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_or_bad_runtime_is_named() {
        let dir = tempfile::tempdir().expect("temp dir");
        let err = Runtimes::read(&[dir.path()]).unwrap_err().to_string();
        assert!(err.contains("SmartSession.runtime.hex"), "{err}");
        for (name, _) in contracts() {
            std::fs::write(dir.path().join(format!("{name}.runtime.hex")), "0x6001").unwrap();
        }
        std::fs::write(dir.path().join("UsageLimitPolicy.runtime.hex"), "zz").unwrap();
        let err = Runtimes::read(&[dir.path()]).unwrap_err().to_string();
        assert!(err.contains("UsageLimitPolicy.runtime.hex holds no hex"), "{err}");
        std::fs::write(dir.path().join("UsageLimitPolicy.runtime.hex"), "6002\n").unwrap();
        let runtimes = Runtimes::read(&[dir.path()]).unwrap();
        assert_eq!(runtimes.get("UsageLimitPolicy").map(|c| c.to_vec()), Some(vec![0x60, 2]));
        let mut devnet = Devnet::new().unwrap();
        let canonical = devnet.place_canonical(&runtimes);
        assert_eq!(canonical, Deployments::MODULE_SDK_0_4);
        assert!(devnet.has_code(canonical.policies.usage_limit));
    }
}
