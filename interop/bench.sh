#!/usr/bin/env bash
# Runs the encode benchmarks in Rust (criterion) and with module-sdk/viem (Node) on the same
# inputs, and prints both with the ratio.   bash interop/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
(cd interop && [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error)
cargo bench --quiet --bench encode -- --noplot >/dev/null
node interop/bench.mjs > target/node-encode-bench.json
node --input-type=module -e '
import { readFileSync } from "node:fs";
const node = JSON.parse(readFileSync("target/node-encode-bench.json", "utf8"));
const fmt = (ns) => ns >= 1000 ? (ns / 1000).toFixed(2) + " µs" : ns.toFixed(0) + " ns";
console.log("operation            mandate (Rust)   module-sdk/viem (Node)   ratio");
for (const [name, nodeNs] of Object.entries(node)) {
  const est = JSON.parse(readFileSync(`target/criterion/encode/${name}/new/estimates.json`, "utf8"));
  const rustNs = est.mean.point_estimate;
  console.log(name.padEnd(26), fmt(rustNs).padStart(12), fmt(nodeNs).padStart(20), (nodeNs / rustNs).toFixed(0).padStart(7) + "x");
}
// The floor of the USE path on this machine: its Keccak-f[1600] permutations, one after another
// (permissionId of 192 bytes: 2; the 1188-byte batch calldata: 9; userOpHash 256 + 96 bytes: 3).
const perm = JSON.parse(readFileSync("target/criterion/encode/keccak256_one_permutation/new/estimates.json", "utf8")).mean.point_estimate;
console.log(`one keccak permutation ${fmt(perm)}; the USE path needs 14: floor ${fmt(14 * perm)}`);'
