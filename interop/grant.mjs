// Grants a session from TypeScript for `mandate session import`: an OwnableValidator session
// (1-of-1, the session key's address) allowing the ERC-20's `transfer` under the Sudo policy,
// on a Nexus account (or, with --account-type erc7579-implementation, the ERC-7579 reference
// account) whose owner's validator checks an EIP-191 signature of the enable hash.
// module-sdk's `getEnableSessionDetails` builds it (the nonce and digest read from the chain),
// the owner signs `permissionEnableHash`, and module-sdk's `EnableSessionData` is written out.
// SmartSession, OwnableValidator and Sudo are module-sdk's own (canonical) addresses.
//
//   MANDATE_OWNER_KEY=0x… node grant.mjs --rpc-url URL --account 0x… --owner-validator 0x… \
//     --session-key 0x…(address) --token 0x… --out FILE [--mode unsafe-enable|enable] [--salt 0x…]
//     [--account-type nexus|erc7579-implementation]
//
// Prints {"permissionId", "mode", "millis"}. The owner key is read from the environment only.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createPublicClient, defineChain, http, padHex, toFunctionSelector } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  SmartSessionMode, getEnableSessionDetails, getOwnableValidator, getSudoPolicy,
} from '@rhinestone/module-sdk';

const started = performance.now();
const { values: args } = parseArgs({
  options: {
    'rpc-url': { type: 'string' },
    account: { type: 'string' },
    'owner-validator': { type: 'string' },
    'session-key': { type: 'string' },
    token: { type: 'string' },
    out: { type: 'string' },
    mode: { type: 'string', default: 'unsafe-enable' },
    salt: { type: 'string', default: padHex('0x07', { size: 32 }) },
    'owner-key-env': { type: 'string', default: 'MANDATE_OWNER_KEY' },
    // module-sdk's AccountType: it only names the account in EnableSessionData (the redeemer
    // routes the nonce and prefixes the enable signature by it); the digest does not depend on it.
    'account-type': { type: 'string', default: 'nexus' },
  },
});
for (const name of ['rpc-url', 'account', 'owner-validator', 'session-key', 'token', 'out']) {
  if (!args[name]) throw new Error(`--${name} is required`);
}
const modes = { 'unsafe-enable': SmartSessionMode.UNSAFE_ENABLE, enable: SmartSessionMode.ENABLE };
const enableMode = modes[args.mode];
if (enableMode === undefined) throw new Error(`--mode: ${args.mode} is not unsafe-enable or enable`);
if (!['nexus', 'erc7579-implementation'].includes(args['account-type'])) {
  throw new Error(`--account-type: ${args['account-type']} is not nexus or erc7579-implementation`);
}
const secret = process.env[args['owner-key-env']];
if (!secret) throw new Error(`the owner key: ${args['owner-key-env']} is not set`);
const owner = privateKeyToAccount(secret);

const transport = http(args['rpc-url']);
const chainId = await createPublicClient({ transport }).getChainId();
const chain = defineChain({
  id: chainId, name: 'anvil', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [args['rpc-url']] } },
});
const client = createPublicClient({ chain, transport });

const validator = getOwnableValidator({ threshold: 1, owners: [args['session-key']] });
const sudo = getSudoPolicy();
const session = {
  sessionValidator: validator.address,
  sessionValidatorInitData: validator.initData,
  salt: args.salt,
  userOpPolicies: [],
  erc7739Policies: { allowedERC7739Content: [], erc1271Policies: [] },
  actions: [{
    actionTarget: args.token,
    actionTargetSelector: toFunctionSelector('transfer(address,uint256)'),
    actionPolicies: [{ policy: sudo.address, initData: sudo.initData }],
  }],
  permitERC4337Paymaster: false,
  chainId: BigInt(chainId),
};

const details = await getEnableSessionDetails({
  sessions: [session],
  enableMode,
  account: { address: args.account, type: args['account-type'], deployedOnChains: [chainId] },
  clients: [client],
  enableValidatorAddress: args['owner-validator'],
  // SmartSession signs this flag as set exactly in UNSAFE_ENABLE (module-sdk defaults it to
  // false, which the contract's hash of an UNSAFE_ENABLE session then does not match).
  ignoreSecurityAttestations: enableMode === SmartSessionMode.UNSAFE_ENABLE,
});
// The owner's validator (K1) checks an EIP-191 signature of the hash: viem's signMessage raw.
details.enableSessionData.enableSession.permissionEnableSig = await owner.signMessage({
  message: { raw: details.permissionEnableHash },
});

const json = JSON.stringify(details.enableSessionData, (_, v) => (
  typeof v === 'bigint' ? { __type: 'bigint', value: v.toString() } : v));
writeFileSync(args.out, json);
process.stdout.write(`${JSON.stringify({
  permissionId: details.permissionId,
  mode: args.mode,
  accountType: args['account-type'],
  millis: Math.round(performance.now() - started),
})}\n`);
