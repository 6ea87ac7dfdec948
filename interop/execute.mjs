// ERC-7579 `execute(bytes32,bytes)` calldata of a batch, with viem.
import { encodeAbiParameters, encodeFunctionData } from 'viem';

const executeAbi = [{
  type: 'function',
  name: 'execute',
  stateMutability: 'payable',
  inputs: [{ name: 'mode', type: 'bytes32' }, { name: 'executionCalldata', type: 'bytes' }],
  outputs: [],
}];

const executionType = [{
  type: 'tuple[]',
  components: [{ name: 'target', type: 'address' }, { name: 'value', type: 'uint256' }, { name: 'callData', type: 'bytes' }],
}];

const BATCH_MODE = '0x01' + '00'.repeat(31);

/** `execute(batch mode, abi.encode(Execution[]))` for calls `{to, value, data}`. */
export function batchCalldata(calls) {
  const executions = calls.map((c) => ({ target: c.to, value: c.value, callData: c.data }));
  return encodeFunctionData({
    abi: executeAbi,
    functionName: 'execute',
    args: [BATCH_MODE, encodeAbiParameters(executionType, [executions])],
  });
}
