// Grants a session with the Nexus SDK (@biconomy/sdk 0.0.29) for `mandate session import`: its
// own `grantDeferredPermission` on a Nexus account at --account (toNexusAccount, the owner's
// key as its signer), for an OwnableValidator session of --session-key allowing the ERC-20's
// `transfer` under Sudo (the SDK's default when no rules are given). The enable nonce and
// digest are read from the node, at module-sdk 0.2.3's SmartSession address; the owner signs
// `permissionEnableHash`. Writes the SessionData {granter, sessionPublicKey, moduleData} with
// the SDK's `stringify` (bigint tags).
//
//   MANDATE_OWNER_KEY=0x… node grant.mjs --rpc-url URL --account 0x… --session-key 0x…(address) \
//     --token 0x… --out FILE [--salt 0x…]
//
// Prints {"permissionIds", "mode", "millis"}. The owner key is read from the environment only.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { grantDeferredPermission, stringify, toNexusAccount } from '@biconomy/sdk';
import { createPublicClient, defineChain, http, padHex } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const started = performance.now();
const { values: args } = parseArgs({
  options: {
    'rpc-url': { type: 'string' },
    account: { type: 'string' },
    'session-key': { type: 'string' },
    token: { type: 'string' },
    out: { type: 'string' },
    salt: { type: 'string', default: padHex('0x2a', { size: 32 }) },
    'owner-key-env': { type: 'string', default: 'MANDATE_OWNER_KEY' },
  },
});
for (const name of ['rpc-url', 'account', 'session-key', 'token', 'out']) {
  if (!args[name]) throw new Error(`--${name} is required`);
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
const account = await toNexusAccount({
  chain, transport, signer: owner, accountAddress: args.account,
});
const moduleData = await grantDeferredPermission({ account }, {
  sessionRequestedInfo: [{
    sessionPublicKey: args['session-key'],
    salt: args.salt,
    actionPoliciesInfo: [{ contractAddress: args.token, functionSelector: '0xa9059cbb' }],
  }],
});
const sessionData = {
  granter: account.address,
  sessionPublicKey: args['session-key'],
  moduleData,
  description: 'transfer under Sudo, granted by the Nexus SDK',
};
writeFileSync(args.out, stringify(sessionData));
process.stdout.write(`${JSON.stringify({
  permissionIds: moduleData.permissionIds,
  mode: moduleData.mode,
  millis: Math.round(performance.now() - started),
})}\n`);
