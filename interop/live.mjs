// Uses a session exported by `mandate session export` from TypeScript: a USE-mode UserOperation
// for a Nexus or ERC-7579 reference account (the export's `accountType`), built with viem, signed with the session key, wrapped with module-sdk's
// `encodeSmartSessionSignature` and sent through viem's bundler client.
//
//   MANDATE_SESSION_KEY=0x… node live.mjs --rpc-url URL --bundler-url URL --session EXPORTED.json \
//     --target 0x… --calldata 0x… [--value WEI] [--entry-point 0x…]
//
// Prints {"userOpHash", "success", "txHash"}. The key is read from the environment only.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  concatHex, createPublicClient, decodeAbiParameters, encodeFunctionData, encodePacked, http,
  isAddressEqual, numberToHex, padHex, toHex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  createBundlerClient, entryPoint07Abi, entryPoint07Address, toPackedUserOperation,
} from 'viem/account-abstraction';
import {
  SmartSessionMode, encodeSmartSessionSignature, getOwnableValidatorMockSignature,
} from '@rhinestone/module-sdk';

const started = performance.now();
const { values: args } = parseArgs({
  options: {
    'rpc-url': { type: 'string' },
    'bundler-url': { type: 'string' },
    'entry-point': { type: 'string', default: entryPoint07Address },
    session: { type: 'string' },
    target: { type: 'string' },
    calldata: { type: 'string', default: '0x' },
    value: { type: 'string', default: '0' },
    'session-key-env': { type: 'string', default: 'MANDATE_SESSION_KEY' },
  },
});
for (const name of ['rpc-url', 'bundler-url', 'session', 'target']) {
  if (!args[name]) throw new Error(`--${name} is required`);
}
const secret = process.env[args['session-key-env']];
if (!secret) throw new Error(`the session key: ${args['session-key-env']} is not set`);
const sessionKey = privateKeyToAccount(secret);

// The export: {chainId, account, smartSession, permissionId, sessionKey, session, ...}.
const exported = JSON.parse(readFileSync(args.session, 'utf8'));
const { account, smartSession, permissionId, session } = exported;
if (!isAddressEqual(exported.sessionKey, sessionKey.address)) {
  throw new Error(`the session key: ${args['session-key-env']} is not the export's sessionKey`);
}

// How the session validator checks a signature, from its init data. OwnableValidator's
// abi.encode(uint256 threshold, address[] owners): the EIP-191 personal-sign of the hash with v
// raised by 4 (31/32), the mark that makes the validator recover over the personal-sign hash;
// viem's plain signMessage (v 27/28) is recovered over the raw hash and fails (AA24). A bare
// 20-byte owner: a raw ECDSA signature of the hash.
function validatorKind(initData) {
  if ((initData.length - 2) / 2 === 20) return 'ecdsa';
  const [, owners] = decodeAbiParameters([{ type: 'uint256' }, { type: 'address[]' }], initData);
  if (!owners.some((o) => isAddressEqual(o, sessionKey.address))) {
    throw new Error('the session: the key is not one of its OwnableValidator owners');
  }
  return 'ownable';
}
const kind = validatorKind(session.sessionValidatorInitData);

const publicClient = createPublicClient({ transport: http(args['rpc-url']) });
// Polled every 250 ms (viem's default, 4 s, would dominate the measured time on anvil).
const bundler = createBundlerClient({
  client: publicClient, transport: http(args['bundler-url']), pollingInterval: 250,
});
const entryPoint = args['entry-point'];

// The 192-bit nonce key that routes the op to SmartSession, lane 0, per family. Nexus:
// [3 bytes lane][1 byte mode 0x00 = validate][20 bytes validator] — module-sdk 0.4.0's Nexus
// `encodeValidatorNonce` puts the validator in bytes 0..19 instead, which Nexus refuses
// (ValidatorNotInstalled), so the key is laid out here. The ERC-7579 reference account:
// [20 bytes validator][4 bytes lane].
const nonceKeys = {
  nexus: () => concatHex(['0x000000', '0x00', smartSession]),
  'erc7579-implementation': () => concatHex([smartSession, '0x00000000']),
};
const nonceKeyOf = nonceKeys[exported.accountType];
if (!nonceKeyOf) {
  throw new Error(`the export's accountType ${JSON.stringify(exported.accountType)}: one of ${Object.keys(nonceKeys).join(', ')}`);
}
const nonceKey = BigInt(nonceKeyOf());
const nonce = await publicClient.readContract({
  address: entryPoint, abi: entryPoint07Abi, functionName: 'getNonce', args: [account, nonceKey],
});

// ERC-7579 execute(single mode, target ‖ value ‖ calldata).
const callData = encodeFunctionData({
  abi: [{
    type: 'function', name: 'execute', stateMutability: 'payable', outputs: [],
    inputs: [{ name: 'mode', type: 'bytes32' }, { name: 'executionCalldata', type: 'bytes' }],
  }],
  functionName: 'execute',
  args: [
    padHex('0x00', { size: 32 }),
    encodePacked(['address', 'uint256', 'bytes'], [args.target, BigInt(args.value), args.calldata]),
  ],
});

const stub = kind === 'ownable'
  ? getOwnableValidatorMockSignature({ threshold: 1 })
  : `0x${'00'.repeat(64)}1b`;
const fees = await publicClient.estimateFeesPerGas();
const op = {
  sender: account,
  nonce,
  callData,
  maxFeePerGas: fees.maxFeePerGas,
  maxPriorityFeePerGas: fees.maxPriorityFeePerGas,
  signature: encodeSmartSessionSignature({ mode: SmartSessionMode.USE, permissionId, signature: stub }),
};
const gas = await bundler.estimateUserOperationGas({ ...op, entryPointAddress: entryPoint });
Object.assign(op, {
  callGasLimit: gas.callGasLimit,
  verificationGasLimit: gas.verificationGasLimit,
  preVerificationGas: gas.preVerificationGas,
});

const userOpHash = await publicClient.readContract({
  address: entryPoint, abi: entryPoint07Abi, functionName: 'getUserOpHash',
  args: [toPackedUserOperation({ ...op, signature: '0x' })],
});
async function sign(hash) {
  if (kind !== 'ownable') return sessionKey.sign({ hash });
  const signed = await sessionKey.signMessage({ message: { raw: hash } });
  const v = Number.parseInt(signed.slice(130), 16);
  return concatHex([signed.slice(0, 130), numberToHex(v + 4, { size: 1 })]);
}
const signature = await sign(userOpHash);
op.signature = encodeSmartSessionSignature({ mode: SmartSessionMode.USE, permissionId, signature });

const sent = await bundler.sendUserOperation({ ...op, entryPointAddress: entryPoint });
const receipt = await bundler.waitForUserOperationReceipt({ hash: sent, timeout: 60_000 });
process.stdout.write(`${JSON.stringify({
  userOpHash: sent,
  computedHash: userOpHash,
  success: receipt.success,
  txHash: receipt.receipt.transactionHash,
  validator: kind,
  millis: Math.round(performance.now() - started),
  nonce: toHex(nonce),
  gas: Object.fromEntries(Object.entries(gas).map(([k, v]) => [k, numberToHex(v)])),
})}\n`);
