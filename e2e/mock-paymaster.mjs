// Started by the end-to-end test harness (`Harness::start_paymaster`): the pinned
// @pimlico/mock-paymaster, an ERC-7677 paymaster service, on 127.0.0.1.
//
//   node mock-paymaster.mjs <anvil URL> <Alto URL> <port>
//
// At start it deploys Pimlico's singleton paymasters for EntryPoint v0.6, v0.7 and v0.8
// through the deterministic deployer (0x4e59…956c, which anvil holds), reads each one's
// deposit at its EntryPoint and tops it up to 50 ETH, and deploys its test ERC-20; then it
// listens. Requests it does not serve itself go to Alto.

// prool (the service's instance wrapper) calls Promise.withResolvers, which Node has from 22
// on; on older Node it is defined here first (hence the dynamic import below).
if (typeof Promise.withResolvers !== "function") {
  Promise.withResolvers = function () {
    let resolve, reject;
    const promise = new this((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}
const { paymaster, erc20Address } = await import("@pimlico/mock-paymaster");

const [anvilRpc, altoRpc, port] = process.argv.slice(2);
if (!anvilRpc || !altoRpc || !port) {
  console.error("usage: node mock-paymaster.mjs <anvil URL> <Alto URL> <port>");
  process.exit(2);
}
const instance = paymaster({ anvilRpc, altoRpc, port: Number(port), host: "127.0.0.1" });
await instance.start();
// The harness reads the test token's address (for ERC-20 mode) from this line.
console.log(`mock-paymaster listening on 127.0.0.1:${port}, ERC-20 ${erc20Address}`);
