// The encode benchmarks of benches/encode.rs, on the same inputs (interop/vectors.json), with
// module-sdk and viem. Prints {name: nanoseconds per call} as JSON.
//
//   node interop/bench.mjs
import { readFileSync } from 'node:fs';
import {
  SmartSessionMode,
  encodeSmartSessionSignature,
  getPermissionId,
  hashChainSessions,
} from '@rhinestone/module-sdk';
import { getUserOperationHash } from 'viem/account-abstraction';
import { batchCalldata } from './execute.mjs';

// Integers were written as numbers, decimal or hex strings: make them bigints again.
const integerKeys = new Set(['chainId', 'nonce', 'value', 'limit', 'used', 'valueLimitPerUse', 'length', 'offset', 'gas']);
const revive = (key, value) =>
  integerKeys.has(key) && (typeof value === 'string' || typeof value === 'number') ? BigInt(value) : value;
const v = JSON.parse(readFileSync(new URL('./vectors.json', import.meta.url), 'utf8'), revive);

const session = v.sessions[0].session;
const use = v.useSignatures[0];
const enable = v.enableSignatures[0];
const chainSessions = v.digests[0].chainSessions;
const b = v.bench;
const userOperation = {
  sender: b.sender,
  nonce: b.nonce,
  callData: batchCalldata(b.calls),
  callGasLimit: b.gas,
  verificationGasLimit: b.gas,
  preVerificationGas: b.gas,
  maxFeePerGas: b.gas,
  maxPriorityFeePerGas: b.gas,
  signature: use.signature,
};
const ENTRY_POINT_V07 = '0x0000000071727De22E5E9d8BAf0edAc6f37da032';
const opHash = (op) =>
  getUserOperationHash({ userOperation: op, chainId: Number(b.chainId), entryPointAddress: ENTRY_POINT_V07, entryPointVersion: '0.7' });

const cases = {
  permission_id: () => getPermissionId({ session }),
  use_signature: () =>
    encodeSmartSessionSignature({ mode: SmartSessionMode.USE, permissionId: use.permissionId, signature: use.signature }),
  enable_signature: () =>
    encodeSmartSessionSignature({
      mode: enable.mode,
      permissionId: getPermissionId({ session: enable.enableSessionData.enableSession.sessionToEnable }),
      signature: enable.signature,
      enableSessionData: enable.enableSessionData,
    }),
  multichain_digest: () => hashChainSessions(b.multichain),
  multichain_digest_distinct: () => hashChainSessions(chainSessions),
  batch_calldata_4: () => batchCalldata(b.calls),
  user_op_hash: () => opHash(userOperation),
  use_path: () => {
    const permissionId = getPermissionId({ session });
    const hash = opHash({ ...userOperation, callData: batchCalldata(b.calls) });
    return [hash, encodeSmartSessionSignature({ mode: SmartSessionMode.USE, permissionId, signature: use.signature })];
  },
};

// The benchmarks must compute what the vectors say.
if (cases.multichain_digest() !== b.multichainDigest) throw new Error('digest differs from the vector');
if (cases.multichain_digest_distinct() !== v.digests[0].digest) throw new Error('digest differs from the vector');
if (cases.enable_signature() !== enable.encoded) throw new Error('enable signature differs from the vector');

function measure(fn) {
  // Warm up for ~0.5 s, then time batches until ~2 s have passed; report the median batch.
  const warmUntil = performance.now() + 500;
  let n = 0;
  while (performance.now() < warmUntil) { fn(); n++; }
  const perBatch = Math.max(1, Math.floor(n / 25));
  const samples = [];
  const until = performance.now() + 2000;
  while (performance.now() < until || samples.length < 5) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < perBatch; i++) fn();
    samples.push(Number(process.hrtime.bigint() - t0) / perBatch);
  }
  samples.sort((x, y) => x - y);
  return samples[Math.floor(samples.length / 2)];
}

const results = {};
for (const [name, fn] of Object.entries(cases)) results[name] = measure(fn);
process.stdout.write(JSON.stringify(results, null, 1) + '\n');
