// Pool worker: one WebAssembly kernel per thread. A compress task frames a batch of blocks into the
// task's reused output buffer; a decompress task decodes a batch of blocks into one fresh buffer each.
import { parentPort } from 'node:worker_threads';
import { encodeBlockHeader } from './block';
import { lzoKernel, LzoDataError } from './kernel';
import type { CompressResult, DecompressResult, TaskFailure, WorkerTask } from './worker-protocol';

const port = parentPort;
if (port === null) throw new Error('the lzop worker must run in a worker thread');

// Every failure is answered, never thrown: an uncaught exception would end this thread (and the whole
// process under --abort-on-uncaught-exception), and the pool would learn of it only from 'error'/'exit'.
port.on('message', (task: WorkerTask) => {
  try {
    runTask(task);
  } catch (e) {
    const failure: TaskFailure = { op: 'failed', id: task.id, message: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
    port.postMessage(failure);
  }
});

function runTask(task: WorkerTask): void {
  if (port === null) return;
  const kernel = lzoKernel();
  if (task.op === 'compress') {
    const staging = new Uint8Array(task.output);
    let inPos = 0;
    let outPos = 0;
    for (const length of task.lengths) {
      const data = new Uint8Array(task.input, inPos, length);
      const { compressed, checksum } = kernel.compressBlock(data, 'adler32');
      const payload = compressed.length < length ? compressed : data;
      outPos = encodeBlockHeader(staging, outPos, length, payload.length, checksum);
      staging.set(payload, outPos);
      outPos += payload.length;
      inPos += length;
    }
    const reply: CompressResult = { op: 'compress', id: task.id, input: task.input, output: task.output, outputLength: outPos };
    port.postMessage(reply, [task.input, task.output]);
    return;
  }
  const reply: DecompressResult = {
    op: 'decompress',
    id: task.id,
    input: task.input,
    outputs: [],
    codes: [],
    dataChecksums: [],
    compressedChecksums: [],
  };
  let inPos = 0;
  for (const spec of task.blocks) {
    let code = 0;
    let output = new ArrayBuffer(0);
    let dataSum = 0;
    let compressedSum = 0;
    try {
      const decoded = kernel.decompressBlock(
        new Uint8Array(task.input, inPos, spec.srcLen),
        spec.dstLen,
        spec.dataChecksum,
        spec.compressedChecksum,
      );
      output = decoded.data.slice().buffer;
      dataSum = decoded.outputChecksum;
      compressedSum = decoded.inputChecksum;
    } catch (e) {
      if (!(e instanceof LzoDataError)) throw e;
      code = e.code;
    }
    inPos += spec.srcLen;
    reply.outputs.push(output);
    reply.codes.push(code);
    reply.dataChecksums.push(dataSum);
    reply.compressedChecksums.push(compressedSum);
  }
  port.postMessage(reply, [task.input, ...reply.outputs]);
}
