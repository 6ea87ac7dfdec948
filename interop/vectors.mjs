// Test vectors from the real TypeScript SDK (@rhinestone/module-sdk with viem and solady), made
// from seeded random inputs. mandate-abi's tests assert byte equality with every one.
//
//   node interop/vectors.mjs [seed] > interop/vectors.json
import {
  SmartSessionMode,
  encodeSmartSessionSignature,
  getActionId,
  getEnableSessionsAction,
  getOwnableValidatorMockSignature,
  getPermissionId,
  getSpendingLimitsPolicy,
  getSudoPolicy,
  getTimeFramePolicy,
  getUniversalActionPolicy,
  getUsageLimitPolicy,
  getValueLimitPolicy,
  hashChainSessions,
} from '@rhinestone/module-sdk';
import { LibZip } from 'solady';
import { toHex } from 'viem';
import { getUserOperationHash } from 'viem/account-abstraction';
import { batchCalldata } from './execute.mjs';
import { bigintReplacer, seeded } from './inputs.mjs';

const seed = Number(process.argv[2] ?? 7579);

const { next, int, pick, bytes, hex, address } = seeded(seed);
const bigint = (maxBytes) => {
  const n = int(maxBytes + 1);
  return n === 0 ? 0n : BigInt(hex(n));
};

const replacer = bigintReplacer();

const conditionCount = 7;
function universalParams() {
  const length = int(17);
  const rule = () => ({
    condition: int(conditionCount),
    offset: BigInt(32 * int(12)),
    isLimited: next() < 0.5,
    ref: hex(32),
    usage: { limit: bigint(32), used: next() < 0.8 ? 0n : bigint(8) },
  });
  return {
    valueLimitPerUse: bigint(16),
    paramRules: { length: BigInt(length), rules: Array.from({ length: 16 }, rule) },
  };
}

function randomPolicy() {
  switch (int(6)) {
    case 0:
      return { kind: 'sudo', params: {}, policy: getSudoPolicy() };
    case 1: {
      const params = universalParams();
      return { kind: 'universal', params, policy: getUniversalActionPolicy(params) };
    }
    case 2: {
      const validAfter = int(2 ** 40);
      const params = { validUntil: next() < 0.2 ? 0 : validAfter + int(2 ** 30), validAfter };
      return { kind: 'timeframe', params, policy: getTimeFramePolicy(params) };
    }
    case 3: {
      const params = Array.from({ length: 1 + int(4) }, () => ({ token: address(), limit: 1n + bigint(31) }));
      return { kind: 'spending-limits', params, policy: getSpendingLimitsPolicy(params) };
    }
    case 4: {
      const params = { limit: 1n + bigint(15) };
      return { kind: 'usage-limit', params, policy: getUsageLimitPolicy(params) };
    }
    default: {
      const params = { limit: 1n + bigint(31) };
      return { kind: 'value-limit', params, policy: getValueLimitPolicy(params) };
    }
  }
}

const policyData = (p) => ({ policy: p.policy.policy, initData: p.policy.initData });

function randomSession(policies) {
  const take = (n) => Array.from({ length: n }, () => {
    const p = randomPolicy();
    policies.push(p);
    return policyData(p);
  });
  return {
    sessionValidator: address(),
    sessionValidatorInitData: hex(pick([0, 1, 20, 31, 32, 33, 64, 65, 100])),
    salt: hex(32),
    userOpPolicies: take(int(3)),
    erc7739Policies: {
      allowedERC7739Content: Array.from({ length: int(3) }, () => ({
        appDomainSeparator: hex(32),
        contentName: Array.from({ length: int(3) }, () => pick(['Permit(bytes32 stuff)Permit', 'Mail(string contents)', 'X', ''])),
      })),
      erc1271Policies: take(int(2)),
    },
    actions: Array.from({ length: int(5) }, () => ({
      actionTargetSelector: next() < 0.1 ? pick(['0x00000001', '0x00000002']) : hex(4),
      actionTarget: next() < 0.1 ? '0x0000000000000000000000000000000000000001' : address(),
      actionPolicies: take(1 + int(3)),
    })),
    permitERC4337Paymaster: next() < 0.5,
    chainId: BigInt(1 + int(100000)),
  };
}

const policies = [];
const sessions = Array.from({ length: 24 }, () => randomSession(policies));

const sessionVectors = sessions.map((session) => ({
  session,
  permissionId: getPermissionId({ session }),
  enableSessionsCalldata: getEnableSessionsAction({ sessions: [session] }).callData,
}));

// Offsets off the argument words, which the policy reads as they are: 4 + 32·k addresses the
// arguments of calldata nested in a `bytes` argument (after its selector); 1 is merely odd.
{
  const rule = (offset) => ({
    condition: 0,
    offset,
    isLimited: false,
    ref: '0x' + '00'.repeat(31) + '2a',
    usage: { limit: 0n, used: 0n },
  });
  const params = {
    valueLimitPerUse: 0n,
    paramRules: { length: 3n, rules: [rule(4n + 32n * 3n), rule(4n), rule(1n), ...Array.from({ length: 13 }, () => rule(0n))] },
  };
  policies.push({ kind: 'universal', params, policy: getUniversalActionPolicy(params) });
}
const policyVectors = policies.map((p) => ({ kind: p.kind, params: p.params, initData: p.policy.initData }));

const actionIds = await Promise.all(
  Array.from({ length: 8 }, async () => {
    const target = address();
    const selector = hex(4);
    return { target, selector, actionId: await getActionId({ target, selector }) };
  }),
);

const useSignatures = Array.from({ length: 8 }, () => {
  const permissionId = hex(32);
  const signature = hex(pick([0, 65, 130]));
  return {
    permissionId,
    signature,
    encoded: encodeSmartSessionSignature({ mode: SmartSessionMode.USE, permissionId, signature }),
  };
});

const accountTypes = ['erc7579-implementation', 'nexus', 'safe', 'kernel'];
const enableSignatures = [];
for (const accountType of accountTypes) {
  for (const mode of [SmartSessionMode.ENABLE, SmartSessionMode.UNSAFE_ENABLE]) {
    const session = pick(sessions);
    const count = 1 + int(4);
    const enableSessionData = {
      enableSession: {
        chainDigestIndex: int(count),
        hashesAndChainIds: Array.from({ length: count }, () => ({ chainId: BigInt(1 + int(2 ** 40)), sessionDigest: hex(32) })),
        sessionToEnable: session,
        permissionEnableSig: hex(65),
      },
      validator: address(),
      accountType,
    };
    const signature = hex(65);
    enableSignatures.push({
      mode,
      enableSessionData,
      signature,
      encoded: encodeSmartSessionSignature({ mode, permissionId: getPermissionId({ session }), signature, enableSessionData }),
    });
  }
}

// What abstractjs 1.2.3's grantPermission{PersonalSign,TypedDataSign} hand a dapp: an array of
// module-sdk's getEnableSessionDetails entries without permissionEnableHash, its `signature` the
// OwnableValidator mock signature; written with abstractjs's `stringify`, which tags bigints as
// {"__type":"bigint","value":"…"} (reproduced here: JSON.stringify with that replacer).
const abstractjsStringify = (obj) =>
  JSON.stringify(obj, (_, value) => (typeof value === 'bigint' ? { __type: 'bigint', value: value.toString() } : value));
const grantEntries = enableSignatures.map((e) => ({
  json: abstractjsStringify([
    {
      mode: e.mode,
      permissionId: getPermissionId({ session: e.enableSessionData.enableSession.sessionToEnable }),
      signature: getOwnableValidatorMockSignature({ threshold: 1 }),
      enableSessionData: e.enableSessionData,
    },
  ]),
  sessionSignature: e.signature,
  encoded: e.encoded,
}));

function signedSession(session) {
  return {
    account: address(),
    permissions: {
      permitGenericPolicy: next() < 0.5,
      permitAdminAccess: next() < 0.5,
      ignoreSecurityAttestations: next() < 0.5,
      permitERC4337Paymaster: session.permitERC4337Paymaster,
      userOpPolicies: session.userOpPolicies,
      erc7739Policies: session.erc7739Policies,
      actions: session.actions,
    },
    sessionValidator: session.sessionValidator,
    sessionValidatorInitData: session.sessionValidatorInitData,
    salt: session.salt,
    smartSession: address(),
    nonce: bigint(8),
  };
}

const digests = Array.from({ length: 8 }, () => {
  const chainSessions = Array.from({ length: 1 + int(4) }, () => ({
    chainId: BigInt(1 + int(2 ** 40)),
    session: signedSession(pick(sessions)),
  }));
  return { chainSessions, digest: hashChainSessions(chainSessions) };
});

const fastlz = [
  '0x',
  hex(1),
  hex(13),
  '0x' + '00'.repeat(1000),
  '0x' + 'ab'.repeat(300),
  ...Array.from({ length: 6 }, () => hex(int(2000))),
  ...Array.from({ length: 6 }, () => {
    // Repetitive data with random edits: long and short back-references, all distances.
    const base = bytes(1 + int(64));
    const out = [];
    while (out.length < 200 + int(9000)) {
      out.push(next() < 0.9 ? base[out.length % base.length] : int(256));
    }
    return toHex(new Uint8Array(out));
  }),
  ...sessionVectors.slice(0, 4).map((v) => v.enableSessionsCalldata),
].map((input) => ({ input, compressed: LibZip.flzCompress(input) }));

// ERC-7579 batch execution calldata and v0.7 user-op hashes, as viem computes them.
const batches = Array.from({ length: 6 }, () => {
  const calls = Array.from({ length: 1 + int(5) }, () => ({ to: address(), value: bigint(4), data: hex(pick([0, 4, 68, 100])) }));
  return { calls, calldata: batchCalldata(calls) };
});

const ENTRY_POINT_V07 = '0x0000000071727De22E5E9d8BAf0edAc6f37da032';
const userOps = Array.from({ length: 8 }, () => {
  const withFactory = next() < 0.5;
  const withPaymaster = next() < 0.5;
  const userOperation = {
    sender: address(),
    nonce: bigint(32),
    ...(withFactory ? { factory: address(), factoryData: hex(int(200)) } : {}),
    callData: hex(int(400)),
    callGasLimit: bigint(16),
    verificationGasLimit: bigint(16),
    preVerificationGas: bigint(16),
    maxFeePerGas: bigint(16),
    maxPriorityFeePerGas: bigint(16),
    ...(withPaymaster
      ? { paymaster: address(), paymasterVerificationGasLimit: bigint(16), paymasterPostOpGasLimit: bigint(16), paymasterData: hex(int(100)) }
      : {}),
    signature: hex(65),
  };
  const chainId = 1 + int(2 ** 31);
  return {
    userOperation,
    chainId,
    hash: getUserOperationHash({ userOperation, chainId, entryPointAddress: ENTRY_POINT_V07, entryPointVersion: '0.7' }),
  };
});

// Fixed inputs of the encode benchmarks (benches/encode.rs and interop/bench.mjs).
const bench = {
  calls: Array.from({ length: 4 }, () => ({ to: address(), value: bigint(4), data: hex(68) })),
  sender: address(),
  nonce: bigint(24),
  gas: 1_000_000n,
  chainId: 8453,
  // The common multichain enable: one session on three chains (its own account and nonce on each).
  multichain: [8453n, 10n, 42161n].map((chainId) => {
    const session = sessions[1];
    const signed = signedSession(session);
    return { chainId, session: { ...signed, permissions: { ...signed.permissions, permitGenericPolicy: false, permitAdminAccess: false, ignoreSecurityAttestations: false } } };
  }),
};

bench.multichainDigest = hashChainSessions(bench.multichain);

const vectors = {
  generator: {
    seed,
    packages: { '@rhinestone/module-sdk': '0.4.0', viem: '2.57.20', solady: '0.0.235' },
  },
  sessions: sessionVectors,
  policies: policyVectors,
  actionIds,
  useSignatures,
  enableSignatures,
  grantEntries,
  digests,
  fastlz,
  batches,
  userOps,
  bench,
};

process.stdout.write(JSON.stringify(vectors, replacer, 1) + '\n');
