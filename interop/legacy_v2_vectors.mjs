// Test vectors for Biconomy session keys v2 from the real SDK (@biconomy/account v4 with viem and
// merkletreejs), made from seeded random inputs: ABI and ERC-20 session data, the merkle root and
// proofs the Session Key Manager module builds, the setMerkleRoot calldata, and the module
// signatures of single sessions and of batches. crates/abi/tests/legacy_v2_vectors.rs asserts
// byte equality with every one.
//
//   node interop/legacy_v2_vectors.mjs [seed] > interop/legacy_v2_vectors.json
import {
  BatchedSessionRouterModule,
  DEFAULT_ABI_SVM_MODULE,
  DEFAULT_BATCHED_SESSION_ROUTER_MODULE,
  DEFAULT_ERC20_MODULE,
  DEFAULT_SESSION_KEY_MANAGER_MODULE,
  SessionKeyManagerModule,
  StorageType,
  createABISessionDatum,
  createERC20SessionDatum,
} from '@biconomy/account';
import { createWalletClient, encodeAbiParameters, http } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import { foundry } from 'viem/chains';
import { bigintReplacer, seeded } from './inputs.mjs';

const seed = Number(process.argv[2] ?? 1337);

const { int, pick, hex, address } = seeded(seed);
const timestamp = () => (int(3) === 0 ? 0 : int(2 ** 31));
const signatures = ['transfer(address,uint256)', 'safeMint(address)', 'approve(address,uint256)'];

function referenceValue() {
  switch (int(3)) {
    case 0: {
      const n = int(33);
      return n === 0 ? 0n : BigInt(hex(n));
    }
    case 1:
      return hex(1 + int(32));
    default:
      return { raw: hex(32) };
  }
}

function abiLeaf(sessionKey) {
  const params = {
    interval: { validUntil: timestamp(), validAfter: timestamp() },
    sessionKeyAddress: sessionKey,
    contractAddress: address(),
    functionSelector: int(2) === 0 ? { raw: hex(4) } : pick(signatures),
    rules: Array.from({ length: int(5) }, () => ({
      offset: int(3) === 0 ? int(65536) : 32 * int(6),
      condition: int(6),
      referenceValue: referenceValue(),
    })),
    valueLimit: int(2) === 0 ? 0n : BigInt(hex(1 + int(16))),
  };
  return { kind: 'abi', params, datum: createABISessionDatum(params) };
}

function erc20Leaf(sessionKey) {
  const erc20 = { sessionKey, token: address(), recipient: address(), maxAmount: BigInt(hex(1 + int(32))) };
  const params = {
    interval: { validUntil: timestamp(), validAfter: timestamp() },
    sessionKeyAddress: sessionKey,
    sessionKeyData: encodeAbiParameters(
      [{ type: 'address' }, { type: 'address' }, { type: 'address' }, { type: 'uint256' }],
      [erc20.sessionKey, erc20.token, erc20.recipient, erc20.maxAmount],
    ),
  };
  return { kind: 'erc20', params, erc20, datum: createERC20SessionDatum(params) };
}

const replacer = bigintReplacer();

const vectors = [];
for (let v = 0; v < 24; v++) {
  const privateKey = hex(32);
  const signer = createWalletClient({
    account: privateKeyToAccount(privateKey),
    chain: foundry,
    transport: http('http://127.0.0.1:1'),
  });
  const sessionKey = signer.account.address;
  const account = address();
  const skm = await SessionKeyManagerModule.create({ smartAccountAddress: account, storageType: StorageType.MEMORY_STORAGE });
  const leaves = Array.from({ length: 1 + int(12) }, () => (int(3) === 0 ? erc20Leaf(sessionKey) : abiLeaf(sessionKey)));
  const ids = leaves.map((_, i) => `v${v}-${i}`);
  const { data: setMerkleRootCalldata } = await skm.createSessionData(
    leaves.map((l, i) => ({ ...l.datum, preferredSessionId: ids[i] })),
  );
  const root = skm.merkleTree.getHexRoot();
  const userOpHash = hex(32);

  const single = [];
  // Every leaf's proof is checked; single-session signatures for up to three leaves.
  for (const i of [...new Set(Array.from({ length: 3 }, () => int(leaves.length)))]) {
    single.push({ index: i, moduleSignature: await skm.signUserOpHash(userOpHash, { sessionSigner: signer, sessionID: ids[i] }) });
  }
  const router = await BatchedSessionRouterModule.create({ smartAccountAddress: account, sessionKeyManagerModule: skm });
  const indexes = Array.from({ length: 1 + int(4) }, () => int(leaves.length));
  const callSpecificData = indexes.map(() => (int(3) === 0 ? hex(int(40)) : null));
  const batchSessionParams = indexes.map((i, k) => ({
    sessionSigner: signer,
    sessionID: ids[i],
    ...(callSpecificData[k] ? { additionalSessionData: callSpecificData[k] } : {}),
  }));
  const batchSignature = await router.signUserOpHash(userOpHash, { batchSessionParams });

  vectors.push({
    sessionKeyPrivateKey: privateKey,
    account,
    userOpHash,
    leaves: leaves.map((l) => ({
      kind: l.kind,
      params: l.params,
      ...(l.erc20 ? { erc20: l.erc20 } : {}),
      sessionKeyData: l.datum.sessionKeyData,
      sessionValidationModule: l.datum.sessionValidationModule,
    })),
    root,
    setMerkleRootCalldata,
    proofs: leaves.map((l) => skm.merkleTree.getHexProof(skm.merkleTree.getLeaves()[leaves.indexOf(l)])),
    single,
    batch: { indexes, callSpecificData: callSpecificData.map((d) => d ?? '0x'), moduleSignature: batchSignature },
  });
}

const out = {
  generator: 'interop/legacy_v2_vectors.mjs',
  seed,
  sdk: '@biconomy/account 4.6.3',
  constants: {
    sessionKeyManager: DEFAULT_SESSION_KEY_MANAGER_MODULE,
    batchedSessionRouter: DEFAULT_BATCHED_SESSION_ROUTER_MODULE,
    abiSvm: DEFAULT_ABI_SVM_MODULE,
    erc20Svm: DEFAULT_ERC20_MODULE,
  },
  vectors,
};
process.stdout.write(JSON.stringify(out, replacer, 1) + '\n');
