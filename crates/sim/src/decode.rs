//! Decoding revert data into the custom error that raised it, and logs into their events, with
//! the ABIs of every embedded contract.

use std::{collections::HashMap, fmt, sync::OnceLock};

use alloy_dyn_abi::{DynSolEvent, DynSolValue, JsonAbiExt, Specifier};
use alloy_json_abi::Error as AbiError;
use alloy_primitives::{Address, B256, Bytes, Log, Selector, hex};
use alloy_sol_types::{Panic, Revert, SolError};

/// Revert data decoded against every ABI the simulator knows.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
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
        // Decoded from an ABI, a struct is a tuple; EIP-712 values name their struct.
        DynSolValue::CustomStruct { name, tuple, .. } => {
            format!("{name}({})", tuple.iter().map(render).collect::<Vec<_>>().join(", "))
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

/// A log with its event decoded, where an ABI knows it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct DecodedLog {
    /// The emitting contract.
    pub address: Address,
    /// The event's name, if known.
    pub name: Option<String>,
    /// Its parameters by name, rendered as Solidity literals (empty when unknown).
    pub params: Vec<(String, String)>,
}

impl fmt::Display for DecodedLog {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let params: Vec<String> = self.params.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        match &self.name {
            Some(name) => write!(f, "{name}({}) @ {}", params.join(", "), self.address),
            None => write!(f, "unknown event @ {}", self.address),
        }
    }
}

/// topic0 → events, gathered from ABIs, each with its types resolved once (an event whose
/// types do not resolve decodes nothing).
#[derive(Clone, Debug, Default)]
pub struct LogDecoder {
    events: HashMap<B256, Vec<(alloy_json_abi::Event, Option<DynSolEvent>)>>,
}

impl LogDecoder {
    /// A decoder for the events of every ABI given.
    pub fn new<'a>(abis: impl IntoIterator<Item = &'a alloy_json_abi::JsonAbi>) -> Self {
        let mut events: HashMap<B256, Vec<(alloy_json_abi::Event, Option<DynSolEvent>)>> =
            HashMap::new();
        for abi in abis {
            for event in abi.events() {
                let known = events.entry(event.selector()).or_default();
                if !known.iter().any(|(e, _)| e == event) {
                    known.push((event.clone(), event.resolve().ok()));
                }
            }
        }
        Self { events }
    }

    /// Decodes `log`: the first known event with that topic whose indexed parameters match.
    pub fn decode(&self, log: &Log) -> DecodedLog {
        let topics = log.topics();
        let decoded = topics.first().and_then(|t0| self.events.get(t0)).and_then(|candidates| {
            candidates.iter().find_map(|(event, resolved)| {
                let indexed = event.inputs.iter().filter(|p| p.indexed).count();
                if indexed + 1 != topics.len() {
                    return None;
                }
                let values = resolved
                    .as_ref()?
                    .decode_log_parts(topics.iter().copied(), &log.data.data)
                    .ok()?;
                let (mut indexed, mut body) = (values.indexed.into_iter(), values.body.into_iter());
                let params = event
                    .inputs
                    .iter()
                    .map(|p| {
                        let value = if p.indexed { indexed.next() } else { body.next() };
                        (p.name.clone(), value.as_ref().map(render).unwrap_or_default())
                    })
                    .collect();
                Some((event.name.clone(), params))
            })
        });
        match decoded {
            Some((name, params)) => DecodedLog { address: log.address, name: Some(name), params },
            None => DecodedLog { address: log.address, name: None, params: vec![] },
        }
    }
}

/// The decoders of every embedded contract's ABI, built once.
#[derive(Debug)]
pub(crate) struct Decoders {
    pub(crate) reverts: RevertDecoder,
    pub(crate) logs: LogDecoder,
    pub(crate) functions: HashMap<Selector, String>,
}

pub(crate) fn decoders() -> &'static Decoders {
    static DECODERS: OnceLock<Decoders> = OnceLock::new();
    DECODERS.get_or_init(|| {
        let abis: Vec<_> = mandate_contracts::artifacts().contracts.values().map(|c| &c.abi).collect();
        let mut functions = HashMap::new();
        for abi in &abis {
            for f in abi.functions() {
                functions.entry(f.selector()).or_insert_with(|| f.name.clone());
            }
        }
        // Entry points the account and paymaster expose to the EntryPoint, and its inner call.
        for (signature, name) in [
            ("validateUserOp((address,uint256,bytes,bytes,bytes32,uint256,bytes32,bytes,bytes),bytes32,uint256)", "validateUserOp"),
            ("validatePaymasterUserOp((address,uint256,bytes,bytes,bytes32,uint256,bytes32,bytes,bytes),bytes32,uint256)", "validatePaymasterUserOp"),
            ("createSender(bytes)", "createSender"),
        ] {
            let selector = Selector::from_slice(&alloy_primitives::keccak256(signature)[..4]);
            functions.entry(selector).or_insert_with(|| name.to_string());
        }
        Decoders {
            reverts: RevertDecoder::new(abis.iter().copied()),
            logs: LogDecoder::new(abis.iter().copied()),
            functions,
        }
    })
}
