// Pool worker: one WebAssembly kernel per thread, compressing or decompressing one block per message.
import { parentPort } from 'node:worker_threads';
import { lzoKernel, LzoDataError } from './kernel';
import type { CompressResult, DecompressResult, WorkerTask } from './worker-protocol';

const port = parentPort;
if (port === null) throw new Error('the lzop worker must run in a worker thread');

port.on('message', (task: WorkerTask) => {
  const kernel = lzoKernel();
  if (task.op === 'compress') {
    const data = new Uint8Array(task.input, 0, task.length);
    const { compressed, checksum } = kernel.compressBlock(data, 'adler32');
    if (compressed.length < task.length) new Uint8Array(task.output).set(compressed);
    const reply: CompressResult = {
      op: 'compress',
      id: task.id,
      input: task.input,
      output: task.output,
      compressedLength: compressed.length,
      adler32: checksum,
    };
    port.postMessage(reply, [task.input, task.output]);
    return;
  }
  const reply: DecompressResult = {
    op: 'decompress',
    id: task.id,
    input: task.input,
    output: task.output,
    code: 0,
    dataChecksum: 0,
    compressedChecksum: 0,
  };
  try {
    const decoded = kernel.decompressBlock(
      new Uint8Array(task.input, 0, task.srcLen),
      task.dstLen,
      task.dataChecksum,
      task.compressedChecksum,
    );
    new Uint8Array(task.output).set(decoded.data);
    reply.dataChecksum = decoded.outputChecksum;
    reply.compressedChecksum = decoded.inputChecksum;
  } catch (e) {
    if (!(e instanceof LzoDataError)) throw e;
    reply.code = e.code;
  }
  port.postMessage(reply, [task.input, task.output]);
});
