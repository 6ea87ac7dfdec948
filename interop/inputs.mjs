// What both vector scripts share: seeded random inputs (mulberry32, so the same seed always gives
// the same vectors, and the small helpers built on it) and how bigints are written to JSON.
import { getAddress, toHex } from 'viem';

export function seeded(seed) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n) => Math.floor(next() * n);
  const pick = (xs) => xs[int(xs.length)];
  const bytes = (n) => Array.from({ length: n }, () => int(256));
  const hex = (n) => toHex(new Uint8Array(bytes(n)));
  const address = () => getAddress(hex(20));
  return { next, int, pick, bytes, hex, address };
}

// JSON cannot hold bigints: write them as a decimal string, a 0x-hex string or (when small) a
// number, in turn, so the Rust side reads every form a dapp may send.
export function bigintReplacer() {
  let form = 0;
  return (_key, value) => {
    if (typeof value !== 'bigint') return value;
    form = (form + 1) % 3;
    if (form === 0) return value.toString();
    if (form === 1) return '0x' + value.toString(16);
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  };
}
