// The Nexus SDK's own SessionData (@biconomy/sdk 0.0.29 with the module-sdk it pins, 0.2.3), for
// mandate-abi's import tests. `grantDeferredPermission` runs as a dapp runs it, on a Nexus account
// made by the SDK's `toNexusAccount` (its address given, so nothing is deployed): it builds the
// sessions (`preparePermission`), reads each permission's enable nonce and session digest from
// module-sdk 0.2.3's SmartSession (0x00000000002B0eCfbD0496EE71e01257dA0E37DE) through
// `getEnableSessionDetails`, and has the owner sign `permissionEnableHash` (EIP-191, raw).
// The chain is an anvil this script starts, upstream's SmartSession runtime placed at 0.2.3's
// address (anvil_setCode), so every digest is the contract's answer. A SessionData is then what
// the SDK's types say: {granter, sessionPublicKey, moduleData, description}, written with the
// SDK's `stringify` (bigint tags). One more is `preparePermission`'s (what `grantPermission` has
// the account send to enableSessions, then redeemed in USE mode). Keys and salts are fixed, so
// the output is too; `ownerSignedFor` says which mode's typed data the owner's signature is over.
//
//   node vectors.mjs > vectors.json
//   (anvil from ../../e2e/node_modules/.bin or $MANDATE_ANVIL; runtimes from
//    $MANDATE_UPSTREAM_DIR, default ../../../shared/upstream/smartsessions-f5aaf86)
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  MAINNET_ADDRESS_K1_VALIDATOR_ADDRESS,
  SMART_SESSIONS_ADDRESS,
  grantDeferredPermission,
  smartSessionCreateActions,
  stringify,
  toNexusAccount,
} from '@biconomy/sdk';
import { hashChainSessions } from '@rhinestone/module-sdk';
import {
  createTestClient, defineChain, http, keccak256, padHex, recoverMessageAddress, toHex,
} from 'viem';
import { privateKeyToAccount } from 'viem/accounts';

const here = dirname(fileURLToPath(import.meta.url));
const anvilBin = process.env.MANDATE_ANVIL ?? join(here, '../../e2e/node_modules/.bin/anvil');
const upstream = process.env.MANDATE_UPSTREAM_DIR
  ?? join(here, '../../../shared/upstream/smartsessions-f5aaf86');

// Fixed test keys (never funds): the owner's and two session keys, each keccak256 of a label.
const key = (label) => keccak256(toHex(label));
const owner = privateKeyToAccount(key('mandate nexus-sdk owner'));
const sessionKeys = [key('mandate nexus-sdk session 0'), key('mandate nexus-sdk session 1')]
  .map((k) => privateKeyToAccount(k).address);
const granter = '0x000000000000000000000000000000000000dEaD';
const target = '0x1111111111111111111111111111111111111111';
const salt = (n) => padHex(toHex(n), { size: 32 });

async function startAnvil() {
  const child = spawn(anvilBin, ['--port', '0', '--chain-id', '31337'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    let seen = '';
    child.stdout.on('data', (chunk) => {
      seen += chunk;
      const m = seen.match(/Listening on ([0-9.]+:[0-9]+)/);
      if (m) resolve(`http://${m[1]}`);
    });
    child.on('exit', (code) => reject(new Error(`anvil exited (${code}) before listening`)));
  });
  return { url, stop: () => child.kill() };
}

const anvil = await startAnvil();
try {
  const chain = defineChain({
    id: 31337, name: 'anvil', nativeCurrency: { name: 'Ether', symbol: 'ETH', decimals: 18 },
    rpcUrls: { default: { http: [anvil.url] } },
  });
  const transport = http(anvil.url);
  const runtime = readFileSync(join(upstream, 'SmartSession.runtime.hex'), 'utf8').trim();
  const test = createTestClient({ chain, transport, mode: 'anvil' });
  await test.setCode({
    address: SMART_SESSIONS_ADDRESS,
    bytecode: runtime.startsWith('0x') ? runtime : `0x${runtime}`,
  });

  const account = await toNexusAccount({
    chain, transport, signer: owner, accountAddress: granter,
  });

  const cases = [
    {
      name: 'sudo',
      description: 'one session, one action under Sudo (no rules)',
      sessionRequestedInfo: [{
        sessionPublicKey: sessionKeys[0],
        salt: salt(1),
        actionPoliciesInfo: [{ contractAddress: target, functionSelector: '0xa9059cbb' }],
      }],
    },
    {
      name: 'rules-and-limits',
      description: 'one session: UniAction rules, a value limit and a usage limit',
      sessionRequestedInfo: [{
        sessionPublicKey: sessionKeys[0],
        salt: salt(2),
        actionPoliciesInfo: [{
          contractAddress: target,
          functionSelector: '0xa9059cbb',
          rules: [
            { condition: 0, offsetIndex: 0, isLimited: false, ref: sessionKeys[1],
              usage: { limit: 0n, used: 0n } },
            { condition: 4, offsetIndex: 1, isLimited: true, ref: 1000n,
              usage: { limit: 5000n, used: 0n } },
          ],
          valueLimit: 10n ** 15n,
          usageLimit: 3n,
        }],
      }],
    },
    {
      name: 'two-sessions',
      description: 'two sessions in one grant: one signature over both chain digests',
      sessionRequestedInfo: [
        { sessionPublicKey: sessionKeys[1], salt: salt(3),
          actionPoliciesInfo: [{ contractAddress: target, functionSelector: '0x095ea7b3' }] },
        { sessionPublicKey: sessionKeys[1], salt: salt(4),
          actionPoliciesInfo: [{ contractAddress: target, functionSelector: '0x23b872dd' }] },
      ],
    },
    {
      name: 'use',
      description: 'enabled by the account itself (preparePermission, as grantPermission sends it): USE',
      use: true,
      sessionRequestedInfo: [{
        sessionPublicKey: sessionKeys[0],
        salt: salt(5),
        actionPoliciesInfo: [{ contractAddress: target, functionSelector: '0xa9059cbb' }],
      }],
    },
  ];

  const vectors = [];
  for (const c of cases) {
    // The client is the account's own (grantDeferredPermission reads `client.account`).
    // (preparePermission is exported only through the SDK's client actions.)
    const args = { sessionRequestedInfo: c.sessionRequestedInfo };
    const moduleData = c.use
      ? await smartSessionCreateActions()({ account }).preparePermission(args)
      : await grantDeferredPermission({ account }, args);
    const sessionData = {
      granter: account.address,
      sessionPublicKey: c.sessionRequestedInfo[0].sessionPublicKey,
      moduleData,
      description: c.description,
    };
    // Which typed data the owner signed, told by recovering the signature against module-sdk's
    // hashChainSessions of the sessions as getEnableSessionDetails spreads them, with
    // ignoreSecurityAttestations false (what it signs unless told otherwise: ENABLE's digest)
    // and true (UNSAFE_ENABLE's, the mode the SDK names and whose digests it read on-chain).
    const signedFor = [];
    const enable = moduleData.enableSessionData?.enableSession;
    for (const [mode, ignore] of enable ? [['ENABLE', false], ['UNSAFE_ENABLE', true]] : []) {
      const hash = hashChainSessions(moduleData.sessions.map((session) => ({
        chainId: session.chainId,
        session: {
          ...session,
          permissions: {
            permitGenericPolicy: false, permitAdminAccess: false,
            ignoreSecurityAttestations: ignore,
            permitERC4337Paymaster: session.permitERC4337Paymaster,
            userOpPolicies: session.userOpPolicies, erc7739Policies: session.erc7739Policies,
            actions: session.actions,
          },
          account: account.address,
          smartSession: SMART_SESSIONS_ADDRESS,
          nonce: 0n,
        },
      })));
      const signer = await recoverMessageAddress({
        message: { raw: hash }, signature: enable.permissionEnableSig,
      });
      if (signer === owner.address) signedFor.push(mode);
    }
    vectors.push({
      name: c.name,
      sessionData: JSON.parse(stringify(sessionData)),
      owner: owner.address,
      smartSession: SMART_SESSIONS_ADDRESS,
      enableValidator: MAINNET_ADDRESS_K1_VALIDATOR_ADDRESS,
      ownerSignedFor: signedFor,
    });
  }
  process.stdout.write(`${JSON.stringify({
    sdk: '@biconomy/sdk 0.0.29 grantDeferredPermission, @rhinestone/module-sdk 0.2.3',
    chainId: 31337,
    vectors,
  }, null, 2)}\n`);
} finally {
  anvil.stop();
}

