//! SmartSession's calldata as the EVM sees it: `validateUserOp(userOp, userOpHash)` ABI-encoded,
//! read with `calldataload` semantics (zero past the end, 256-bit wrapping positions), so the
//! assembly decoders of `ExecutionLib` can be mirrored exactly, malformed input included.

use std::cell::OnceCell;

use alloy_primitives::{B256, U256};
use alloy_sol_types::SolCall;
use mandate_abi::{PackedUserOperation, bounds::MAX_ENABLE_PAYLOAD, sol::ISmartSession};

/// The outer calldata, materialised only when a read leaves `userOp.callData`.
pub(crate) struct Calldata<'a> {
    op: &'a PackedUserOperation,
    hash: B256,
    /// Absolute position of `userOp.callData`'s first byte.
    base: usize,
    outer: OnceCell<Vec<u8>>,
}

fn ceil32(n: usize) -> usize {
    n.div_ceil(32) * 32
}

impl<'a> Calldata<'a> {
    pub(crate) fn new(op: &'a PackedUserOperation, hash: B256) -> Self {
        // selector, two head words, the tuple's nine head words, initCode (length + padded data),
        // then callData's length word.
        let base = 4 + 64 + 9 * 32 + 32 + ceil32(op.initCode.len()) + 32;
        Self { op, hash, base, outer: OnceCell::new() }
    }

    /// Absolute position and length of `userOp.callData`.
    pub(crate) fn call_data(&self) -> (U256, usize) {
        (U256::from(self.base), self.op.callData.len())
    }

    fn outer(&self) -> &[u8] {
        self.outer.get_or_init(|| {
            ISmartSession::validateUserOpCall { userOp: self.op.clone(), userOpHash: self.hash }
                .abi_encode()
        })
    }

    /// `calldataload(pos)`.
    pub(crate) fn load(&self, pos: U256) -> U256 {
        let cd = &self.op.callData;
        if let Ok(p) = usize::try_from(pos) {
            if p >= self.base && p - self.base + 32 <= cd.len() {
                let i = p - self.base;
                return U256::from_be_slice(&cd[i..i + 32]);
            }
            let outer = self.outer();
            if p >= outer.len() {
                return U256::ZERO;
            }
            let mut word = [0u8; 32];
            let n = (outer.len() - p).min(32);
            word[..n].copy_from_slice(&outer[p..p + n]);
            return U256::from_be_bytes(word);
        }
        U256::ZERO
    }

    /// `calldatacopy` of `len` bytes at `pos` (zero past the end). `None` if the copy is so large
    /// the EVM would run out of gas expanding memory.
    pub(crate) fn copy(&self, pos: U256, len: U256) -> Option<Vec<u8>> {
        let len = usize::try_from(len).ok().filter(|l| *l <= 1 << 24)?;
        let cd = &self.op.callData;
        if let Ok(p) = usize::try_from(pos)
            && p >= self.base
            && p - self.base + len <= cd.len()
        {
            let i = p - self.base;
            return Some(cd[i..i + len].to_vec());
        }
        let mut out = vec![0u8; len];
        if let Ok(p) = usize::try_from(pos) {
            let outer = self.outer();
            if p < outer.len() {
                let n = (outer.len() - p).min(len);
                out[..n].copy_from_slice(&outer[p..p + n]);
            }
        }
        Some(out)
    }
}

/// Why a decoder stopped, as the contract would.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DecodeStop {
    /// `revert(0, 0)`.
    Empty,
    /// `DecodingError()`.
    DecodingError,
    /// The EVM would run out of gas.
    OutOfGas,
}

const M64: u32 = 64;

/// `ExecutionLib.executionCalldata`: the `bytes` argument of `execute(bytes32, bytes)`.
pub(crate) fn execution_calldata(cd: &Calldata<'_>) -> Result<(U256, U256), DecodeStop> {
    let (b, len) = cd.call_data();
    if len < 68 {
        return Err(DecodeStop::Empty);
    }
    let offset = cd.load(b + U256::from(36));
    let start = b.wrapping_add(U256::from(36)).wrapping_add(offset);
    let length = cd.load(start.wrapping_sub(U256::from(32)));
    if !((offset | length) >> M64).is_zero() || start.wrapping_add(length) > b + U256::from(len) {
        return Err(DecodeStop::Empty);
    }
    Ok((start, length))
}

/// `ExecutionLib.decodeSingle`: (target word, value, data position, data length).
pub(crate) fn decode_single(
    cd: &Calldata<'_>,
    (d, len): (U256, U256),
) -> Result<(U256, U256, U256, U256), DecodeStop> {
    if len < U256::from(52) {
        return Err(DecodeStop::Empty);
    }
    let target = cd.load(d) >> 96;
    let value = cd.load(d.wrapping_add(U256::from(20)));
    Ok((target, value, d.wrapping_add(U256::from(52)), len - U256::from(52)))
}

/// `ExecutionLib.decodeBatch`: (pointers position, count).
pub(crate) fn decode_batch(
    cd: &Calldata<'_>,
    (d, len): (U256, U256),
) -> Result<(U256, usize), DecodeStop> {
    let w32 = U256::from(32);
    let u = cd.load(d);
    let s = d.wrapping_add(u);
    let e = d.wrapping_add(len).wrapping_sub(w32);
    let pointers = s.wrapping_add(w32);
    let n = cd.load(s);
    let mut malformed = !(u >> M64).is_zero() || s.wrapping_add(n.wrapping_shl(5)) > e;
    let mut i = U256::ZERO;
    while !malformed && i < n {
        if i > U256::from(1 << 16) {
            return Err(DecodeStop::OutOfGas);
        }
        let p = cd.load(pointers.wrapping_add(i.wrapping_shl(5)));
        let c = pointers.wrapping_add(p);
        let q = cd.load(c.wrapping_add(U256::from(0x40)));
        let o = c.wrapping_add(q);
        let lo = cd.load(o);
        malformed = !((lo | p | q) >> M64).is_zero()
            || c.wrapping_add(U256::from(0x40)) > e
            || o.wrapping_add(lo) > e;
        i += U256::from(1);
    }
    if malformed {
        return Err(DecodeStop::DecodingError);
    }
    let n = usize::try_from(n).ok().filter(|n| *n <= 1 << 16).ok_or(DecodeStop::OutOfGas)?;
    Ok((pointers, n))
}

/// `ExecutionLib.getExecution`: (target word, value, data position, data length); a target with
/// dirty high bits reverts.
pub(crate) fn get_execution(
    cd: &Calldata<'_>,
    pointers: U256,
    i: usize,
) -> Result<(U256, U256, U256, U256), DecodeStop> {
    let c = pointers.wrapping_add(cd.load(pointers.wrapping_add(U256::from(i) << 5)));
    let target = cd.load(c);
    if !(target >> 160usize).is_zero() {
        return Err(DecodeStop::Empty);
    }
    let value = cd.load(c.wrapping_add(U256::from(32)));
    let o = c.wrapping_add(cd.load(c.wrapping_add(U256::from(64))));
    Ok((target, value, o.wrapping_add(U256::from(32)), cd.load(o)))
}

/// `ExecutionLib.getValue`.
pub(crate) fn get_value(cd: &Calldata<'_>, pointers: U256, i: usize) -> U256 {
    let c = pointers.wrapping_add(cd.load(pointers.wrapping_add(U256::from(i) << 5)));
    cd.load(c.wrapping_add(U256::from(32)))
}

/// solady `LibZip.flzDecompress(bytes memory)` as it runs inside `validateUserOp`, malformed
/// streams included: the input is followed in memory by its zero padding, the result's length
/// slot (zero) and then the result being written, and the decompressor reads and writes whole
/// 32-byte words. `None` when a back reference points before the input (memory the evaluator
/// does not model) or the output grows past what any gas limit allows ([`MAX_ENABLE_PAYLOAD`]).
pub(crate) fn flz_decompress(input: &[u8]) -> Option<Vec<u8>> {
    let len = input.len();
    let out_start = len.div_ceil(32) * 32 + 32;
    let mut mem = input.to_vec();
    mem.resize(out_start, 0);
    let load = |mem: &Vec<u8>, p: usize| -> [u8; 32] {
        let mut w = [0u8; 32];
        for (i, b) in w.iter_mut().enumerate() {
            *b = mem.get(p + i).copied().unwrap_or(0);
        }
        w
    };
    let store = |mem: &mut Vec<u8>, p: usize, w: [u8; 32]| {
        if mem.len() < p + 32 {
            mem.resize(p + 32, 0);
        }
        mem[p..p + 32].copy_from_slice(&w);
    };
    let mut data = 0usize;
    let mut op = out_start;
    while data < len {
        if op - out_start > MAX_ENABLE_PAYLOAD {
            return None;
        }
        let w = load(&mem, data);
        let c = usize::from(w[0]);
        let t = c >> 5;
        if t == 0 {
            let lit = load(&mem, data + 1);
            store(&mut mem, op, lit);
            data += 2 + c;
            op += 1 + c;
            continue;
        }
        let g = usize::from(t == 7);
        let l = 2 + if g == 1 { 7 + usize::from(w[1]) } else { t };
        let s = ((c & 0x1f) << 8) + usize::from(w[1 + g]) + 1;
        let r = op.checked_sub(s)?;
        let f = s.min(32);
        let mut j = 0;
        loop {
            let word = load(&mem, r + j);
            store(&mut mem, op + j, word);
            j += f;
            if j >= l {
                break;
            }
        }
        data += 2 + g;
        op += l;
    }
    mem.resize(op.max(out_start), 0);
    Some(mem.split_off(out_start))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::flz_decompress;

    /// On well-formed streams the solady mirror gives what mandate-abi's decompressor gives.
    #[test]
    fn flz_mirror_agrees_on_valid_streams() {
        let mut inputs: Vec<Vec<u8>> = vec![Vec::new(), vec![0], vec![7; 1000]];
        let mut x: u32 = 12345;
        for len in [1usize, 31, 32, 33, 100, 777, 3000] {
            let v: Vec<u8> = (0..len)
                .map(|i| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    if i % 3 == 0 { 0 } else { (x >> 24) as u8 % 4 }
                })
                .collect();
            inputs.push(v);
        }
        for input in inputs {
            let compressed = mandate_abi::fastlz::compress(&input);
            assert_eq!(flz_decompress(&compressed).unwrap(), input);
            assert_eq!(mandate_abi::fastlz::decompress(&compressed).unwrap(), input);
        }
    }

    /// A back reference before the start of the input is not modelled.
    #[test]
    fn reference_before_input_is_declined() {
        // Match of length 3 at distance 0x1f01, first thing in the stream.
        assert_eq!(flz_decompress(&[0x3f, 0x00]), None);
    }
}
