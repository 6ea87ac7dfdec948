// The seeded random inputs both vector scripts draw from: mulberry32, so the same seed always
// gives the same vectors, and the small helpers built on it.
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
