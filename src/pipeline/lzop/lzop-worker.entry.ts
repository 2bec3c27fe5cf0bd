// Pool worker: one WebAssembly kernel per thread, over a memory shared with the main thread. A compress
// task compresses a slot's blocks in place and frames them in the slot's output.
import { parentPort, workerData } from 'node:worker_threads';
import { encodeBlockHeader, WRITER_BLOCK_HEADER_LENGTH } from './block';
import type { WasmMemory } from './kernel';
import { sharedMemoryKernel } from './shared-kernel';
import { SLOT_AREA_BYTES, slotInputOffset, slotOutputOffset } from './worker-protocol';
import type { CompressResult, LzoWorkerData, TaskFailure, WorkerTask } from './worker-protocol';

const port = parentPort;
if (port === null) throw new Error('the lzop worker must run in a worker thread');
const kernel = sharedMemoryKernel((workerData as LzoWorkerData).memory as WasmMemory, SLOT_AREA_BYTES);

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
  const reply: CompressResult = { op: 'compress', id: task.id, outputLength: compressSlot(task.slot, task.lengths) };
  port.postMessage(reply);
}

/**
 * Compresses the slot's blocks straight into their framed places in the slot's output (payload after
 * room for the header); a block that does not shrink is stored instead, copied over what the kernel
 * wrote. Returns the framed length.
 */
function compressSlot(slot: number, lengths: number[]): number {
  const memory = kernel.memoryView();
  const outStart = slotOutputOffset(slot);
  let inPtr = slotInputOffset(slot);
  let outPtr = outStart;
  for (const length of lengths) {
    const checksum = kernel.checksumAt('adler32', inPtr, length);
    const payloadPtr = outPtr + WRITER_BLOCK_HEADER_LENGTH;
    let payloadLength = kernel.compressAt(inPtr, length, payloadPtr);
    if (payloadLength >= length) {
      memory.copyWithin(payloadPtr, inPtr, inPtr + length);
      payloadLength = length;
    }
    outPtr = encodeBlockHeader(memory, outPtr, length, payloadLength, checksum) + payloadLength;
    inPtr += length;
  }
  return outPtr - outStart;
}
