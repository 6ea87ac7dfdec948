// Grants a session with abstractjs 1.2.3 for `mandate session import`: its own Nexus account
// (`toNexusAccount`), its smart-account client (`createSmartAccountClient` on the bundler) with
// `smartSessionActions`, and `grantPermissionPersonalSign` (or, with --sign typed-data,
// `grantPermissionTypedDataSign`): an OwnableValidator session for the redeemer's address
// allowing the ERC-20's `transfer` under module-sdk's Sudo policy. The GrantPermissionResponse
// is written with abstractjs's `stringify` (bigints as {"__type":"bigint","value":…}).
//
// abstractjs reads SmartSession's nonce and digest at module-sdk's canonical addresses (placed on
// anvil); its MEE suites' own Nexus addresses are not on anvil, so the account's suite is given
// as the devnet's Nexus factory, bootstrap and implementation with the owner's validator as the
// default validator (the validator the response names), and the account's address is given.
//
//   MANDATE_OWNER_KEY=0x… node grant-abstractjs.mjs --rpc-url URL --bundler-url URL --account 0x…
//     --factory 0x… --bootstrap 0x… --implementation 0x… --owner-validator 0x…
//     --session-key 0x…(address) --token 0x… --out FILE [--sign personal|typed-data]
//
// Prints {"permissionId", "mode", "validator", "sign", "millis"}. The owner key is read from the
// environment only.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createPublicClient, defineChain, http, toFunctionSelector } from 'viem';
import { privateKeyToAccount } from 'viem/accounts';
import {
  MEEVersion, createSmartAccountClient, getMEEVersion, smartSessionActions, stringify,
  toNexusAccount,
} from '@biconomy/abstractjs';
import { getSudoPolicy } from '@rhinestone/module-sdk';

const started = performance.now();
const { values: args } = parseArgs({
  options: {
    'rpc-url': { type: 'string' },
    'bundler-url': { type: 'string' },
    account: { type: 'string' },
    factory: { type: 'string' },
    bootstrap: { type: 'string' },
    implementation: { type: 'string' },
    'owner-validator': { type: 'string' },
    'session-key': { type: 'string' },
    token: { type: 'string' },
    out: { type: 'string' },
    sign: { type: 'string', default: 'personal' },
    'owner-key-env': { type: 'string', default: 'MANDATE_OWNER_KEY' },
  },
});
for (const name of [
  'rpc-url', 'bundler-url', 'account', 'factory', 'bootstrap', 'implementation', 'owner-validator',
  'session-key', 'token', 'out',
]) {
  if (!args[name]) throw new Error(`--${name} is required`);
}
if (!['personal', 'typed-data'].includes(args.sign)) {
  throw new Error(`--sign: ${args.sign} is not personal or typed-data`);
}
const secret = process.env[args['owner-key-env']];
if (!secret) throw new Error(`the owner key: ${args['owner-key-env']} is not set`);

const transport = http(args['rpc-url']);
const chainId = await createPublicClient({ transport }).getChainId();
const chain = defineChain({
  id: chainId, name: 'anvil', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
  rpcUrls: { default: { http: [args['rpc-url']] } },
});

// A 2.x suite (Nexus 1.2 init data, no registry) with the devnet's contracts in place of its own.
const suite = {
  ...getMEEVersion(MEEVersion.V2_1_0),
  factoryAddress: args.factory,
  bootStrapAddress: args.bootstrap,
  implementationAddress: args.implementation,
  validatorAddress: args['owner-validator'],
  defaultValidatorAddress: args['owner-validator'],
};
const account = await toNexusAccount({
  signer: privateKeyToAccount(secret),
  chainConfiguration: { chain, transport, version: suite, accountAddress: args.account },
});
const client = createSmartAccountClient({ account, transport: http(args['bundler-url']) })
  .extend(smartSessionActions());

const sudo = getSudoPolicy();
const permission = {
  redeemer: args['session-key'],
  actions: [{
    actionTarget: args.token,
    actionTargetSelector: toFunctionSelector('transfer(address,uint256)'),
    actionPolicies: [{ policy: sudo.address, initData: sudo.initData }],
  }],
};
const response = args.sign === 'personal'
  ? await client.grantPermissionPersonalSign([permission])
  : await client.grantPermissionTypedDataSign([permission]);

writeFileSync(args.out, stringify(response));
process.stdout.write(`${JSON.stringify({
  permissionId: response[0].permissionId,
  mode: response[0].mode,
  validator: response[0].enableSessionData.validator,
  sign: args.sign,
  millis: Math.round(performance.now() - started),
})}\n`);
