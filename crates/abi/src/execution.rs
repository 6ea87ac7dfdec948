//! ERC-7579 executions: mode codes and `execute(bytes32,bytes)` calldata (spec §4.1, §4.2).

use alloy_primitives::{Address, B256, Bytes, U256};
use alloy_sol_types::SolCall;

use crate::sol::IERC7579Account;

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

fn padded(len: usize) -> usize {
    len.div_ceil(32) * 32
}

fn word(out: &mut Vec<u8>, value: usize) {
    out.extend_from_slice(&U256::from(value).to_be_bytes::<32>());
}

/// The size of `abi.encode(Execution[])` for `calls`.
fn batch_len(calls: &[Call]) -> usize {
    64 + calls.iter().map(|c| 32 + 128 + padded(c.data.len())).sum::<usize>()
}

/// Appends `abi.encode(Execution[])`: the array's offset, its length, one offset per element
/// (elements are dynamic tuples), then each `(target, value, offset 0x60, length, data)`.
fn write_batch(out: &mut Vec<u8>, calls: &[Call]) {
    word(out, 32);
    word(out, calls.len());
    let mut offset = 32 * calls.len();
    for c in calls {
        word(out, offset);
        offset += 128 + padded(c.data.len());
    }
    for c in calls {
        out.extend_from_slice(&[0u8; 12]);
        out.extend_from_slice(c.to.as_slice());
        out.extend_from_slice(&c.value.to_be_bytes::<32>());
        word(out, 0x60);
        word(out, c.data.len());
        out.extend_from_slice(&c.data);
        out.resize(out.len() + padded(c.data.len()) - c.data.len(), 0);
    }
}

/// `executionCalldata` of a batch: `abi.encode(Execution[])`.
pub fn encode_batch(calls: &[Call]) -> Vec<u8> {
    let mut out = Vec::with_capacity(batch_len(calls));
    write_batch(&mut out, calls);
    out
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
        many => {
            // execute(mode, bytes): selector, mode, offset 0x40, length, then the batch, padded
            // (its length is a multiple of 32 already), all in one buffer.
            let len = batch_len(many);
            let mut out = Vec::with_capacity(4 + 96 + len);
            out.extend_from_slice(&IERC7579Account::executeCall::SELECTOR);
            out.extend_from_slice(mode_code(CallType::Batch, ExecType::Default).as_slice());
            word(&mut out, 0x40);
            word(&mut out, len);
            write_batch(&mut out, many);
            out.into()
        }
    }
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{address, hex};

    use alloy_sol_types::SolValue;

    use super::*;
    use crate::sol::Execution;

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
    fn batch_encoding_matches_the_generic_encoder() {
        for n in 0..5 {
            let calls: Vec<Call> = (0..n)
                .map(|i| {
                    Call::new(Address::repeat_byte(i as u8), vec![7u8; i * 13])
                        .with_value(U256::from(i))
                })
                .collect();
            let executions: Vec<Execution> = calls
                .iter()
                .map(|c| Execution { target: c.to, value: c.value, callData: c.data.clone() })
                .collect();
            assert_eq!(encode_batch(&calls), executions.abi_encode());
            if n != 1 {
                let generic = execute_calldata(
                    mode_code(CallType::Batch, ExecType::Default),
                    executions.abi_encode(),
                );
                assert_eq!(execute_calls(&calls), generic);
            }
        }
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
