//! ERC-7579 executions: mode codes and `execute(bytes32,bytes)` calldata (spec §4.1, §4.2).

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::{SolCall, SolValue};

use crate::sol::{Execution, IERC7579Account};

/// ERC-7579 call type: the first byte of a mode code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallType {
    /// One call: `target ‖ value ‖ callData` packed.
    Single,
    /// Several calls: `abi.encode(Execution[])`.
    Batch,
    /// A static call.
    Static,
    /// A delegatecall: `target ‖ callData` packed.
    DelegateCall,
}

impl CallType {
    /// The mode-code byte.
    pub const fn byte(self) -> u8 {
        match self {
            Self::Single => 0x00,
            Self::Batch => 0x01,
            Self::Static => 0xfe,
            Self::DelegateCall => 0xff,
        }
    }
}

/// ERC-7579 exec type: the second byte of a mode code.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ExecType {
    /// Revert when a call reverts.
    #[default]
    Default,
    /// Go on when a call reverts.
    Try,
}

impl ExecType {
    /// The mode-code byte.
    pub const fn byte(self) -> u8 {
        match self {
            Self::Default => 0x00,
            Self::Try => 0x01,
        }
    }
}

/// A 32-byte ERC-7579 mode code: `callType ‖ execType ‖ 4 unused ‖ selector(4) ‖ payload(22)`.
pub fn mode_code(call: CallType, exec: ExecType) -> B256 {
    let mut mode = B256::ZERO;
    mode.0[0] = call.byte();
    mode.0[1] = exec.byte();
    mode
}

/// One call an account makes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Call {
    /// The contract called.
    pub to: Address,
    /// Native value sent.
    pub value: U256,
    /// The calldata.
    pub data: Bytes,
}

impl Call {
    /// A call without value.
    pub fn new(to: Address, data: impl Into<Bytes>) -> Self {
        Self { to, value: U256::ZERO, data: data.into() }
    }

    /// A call with `value`.
    pub fn with_value(mut self, value: U256) -> Self {
        self.value = value;
        self
    }
}

/// `executionCalldata` of a single call: `target(20) ‖ value(32) ‖ callData`.
pub fn encode_single(call: &Call) -> Vec<u8> {
    let mut out = Vec::with_capacity(52 + call.data.len());
    out.extend_from_slice(call.to.as_slice());
    out.extend_from_slice(&call.value.to_be_bytes::<32>());
    out.extend_from_slice(&call.data);
    out
}

/// `executionCalldata` of a batch: `abi.encode(Execution[])`.
pub fn encode_batch(calls: &[Call]) -> Vec<u8> {
    let executions: Vec<Execution> = calls
        .iter()
        .map(|c| Execution { target: c.to, value: c.value, callData: c.data.clone() })
        .collect();
    executions.abi_encode()
}

/// `executionCalldata` of a delegatecall: `target(20) ‖ callData`.
pub fn encode_delegatecall(target: Address, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(20 + data.len());
    out.extend_from_slice(target.as_slice());
    out.extend_from_slice(data);
    out
}

/// Calldata of `execute(mode, executionCalldata)`.
pub fn execute_calldata(mode: B256, execution_calldata: Vec<u8>) -> Bytes {
    IERC7579Account::executeCall { mode, executionCalldata: execution_calldata.into() }
        .abi_encode()
        .into()
}

/// The account calldata for `calls`: a single execution for one call, a batch otherwise.
pub fn execute_calls(calls: &[Call]) -> Bytes {
    match calls {
        [one] => {
            execute_calldata(mode_code(CallType::Single, ExecType::Default), encode_single(one))
        }
        many => execute_calldata(mode_code(CallType::Batch, ExecType::Default), encode_batch(many)),
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{address, hex};

    use super::*;

    #[test]
    fn single_execute_layout() {
        let call =
            Call::new(address!("1111111111111111111111111111111111111111"), hex!("a9059cbb"))
                .with_value(U256::from(5));
        let data = execute_calls(std::slice::from_ref(&call));
        assert_eq!(&data[..4], hex!("e9ae5c53"));
        assert_eq!(&data[4..36], B256::ZERO.as_slice());
        assert_eq!(U256::from_be_slice(&data[36..68]), U256::from(0x40));
        assert_eq!(U256::from_be_slice(&data[68..100]), U256::from(56));
        assert_eq!(&data[100..120], call.to.as_slice());
        assert_eq!(U256::from_be_slice(&data[120..152]), U256::from(5));
        assert_eq!(&data[152..156], hex!("a9059cbb"));
    }

    #[test]
    fn batch_mode_byte() {
        let calls = vec![Call::default(), Call::default()];
        let data = execute_calls(&calls);
        assert_eq!(data[4], 0x01);
        let decoded = IERC7579Account::executeCall::abi_decode(&data).unwrap();
        let execs = <Vec<Execution>>::abi_decode(&decoded.executionCalldata).unwrap();
        assert_eq!(execs.len(), 2);
    }
}
