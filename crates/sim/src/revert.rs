//! Decoding revert data into the custom error that raised it.

use std::{collections::HashMap, fmt};

use alloy_dyn_abi::{DynSolValue, JsonAbiExt};
use alloy_json_abi::Error as AbiError;
use alloy_primitives::{Bytes, Selector, hex};
use alloy_sol_types::{Panic, Revert, SolError};

/// Revert data decoded against every ABI the simulator knows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DecodedRevert {
    /// The raw revert data.
    pub data: Bytes,
    /// The error's name (`Error` and `Panic` for Solidity's built-in ones), if known.
    pub name: Option<String>,
    /// Its arguments, rendered as Solidity literals, in order.
    pub args: Vec<String>,
}

impl DecodedRevert {
    /// The 4-byte selector, if the data has one.
    pub fn selector(&self) -> Option<Selector> {
        (self.data.len() >= 4).then(|| Selector::from_slice(&self.data[..4]))
    }

    /// Whether this is the custom error `name`.
    pub fn is(&self, name: &str) -> bool {
        self.name.as_deref() == Some(name)
    }
}

impl fmt::Display for DecodedRevert {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.name {
            _ if self.data.is_empty() => f.write_str("revert without data"),
            Some(name) => write!(f, "{name}({})", self.args.join(", ")),
            None => write!(f, "unknown error 0x{}", hex::encode(&self.data)),
        }
    }
}

/// Renders a decoded value as a Solidity literal.
pub(crate) fn render(value: &DynSolValue) -> String {
    match value {
        DynSolValue::Bool(b) => b.to_string(),
        DynSolValue::Int(i, _) => i.to_string(),
        DynSolValue::Uint(u, _) => u.to_string(),
        DynSolValue::FixedBytes(word, size) => format!("0x{}", hex::encode(&word[..*size])),
        DynSolValue::Address(a) => a.to_checksum(None),
        DynSolValue::Function(f) => format!("0x{}", hex::encode(f.as_slice())),
        DynSolValue::Bytes(b) => format!("0x{}", hex::encode(b)),
        DynSolValue::String(s) => format!("{s:?}"),
        DynSolValue::Array(items) | DynSolValue::FixedArray(items) => {
            format!("[{}]", items.iter().map(render).collect::<Vec<_>>().join(", "))
        }
        DynSolValue::Tuple(items) => {
            format!("({})", items.iter().map(render).collect::<Vec<_>>().join(", "))
        }
    }
}

/// Selector → custom error, gathered from ABIs.
#[derive(Clone, Debug, Default)]
pub struct RevertDecoder {
    errors: HashMap<Selector, AbiError>,
}

impl RevertDecoder {
    /// A decoder for the errors of every ABI given.
    pub fn new<'a>(abis: impl IntoIterator<Item = &'a alloy_json_abi::JsonAbi>) -> Self {
        let mut errors = HashMap::new();
        for abi in abis {
            for error in abi.errors() {
                errors.entry(error.selector()).or_insert_with(|| error.clone());
            }
        }
        Self { errors }
    }

    /// Decodes `data`; unknown or malformed data keeps its bytes and has no name.
    pub fn decode(&self, data: &[u8]) -> DecodedRevert {
        let data = Bytes::copy_from_slice(data);
        if data.len() < 4 {
            return DecodedRevert { data, name: None, args: vec![] };
        }
        let selector = Selector::from_slice(&data[..4]);
        if selector == Revert::SELECTOR
            && let Ok(revert) = Revert::abi_decode(&data)
        {
            {
                return DecodedRevert {
                    data,
                    name: Some("Error".into()),
                    args: vec![format!("{:?}", revert.reason)],
                };
            }
        }
        if selector == Panic::SELECTOR
            && let Ok(panic) = Panic::abi_decode(&data)
        {
            {
                let code = panic.code;
                return DecodedRevert {
                    data,
                    name: Some("Panic".into()),
                    args: vec![format!("{code:#x}")],
                };
            }
        }
        match self.errors.get(&selector).map(|e| (e, e.abi_decode_input(&data[4..]))) {
            Some((error, Ok(values))) => DecodedRevert {
                name: Some(error.name.clone()),
                args: values.iter().map(render).collect(),
                data,
            },
            _ => DecodedRevert { data, name: None, args: vec![] },
        }
    }
}
