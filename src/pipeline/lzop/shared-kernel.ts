// A pool worker's kernel: the shared-memory build of the WebAssembly kernel, instantiated over the
// memory the main thread created for this worker, with its scratch buffers above the slots.
import sharedKernelBytes from '../../../build/generated/lzo-kernel-shared.wasm';
import { LzoKernel, wasm } from './kernel';
import type { KernelExports, WasmMemory } from './kernel';

export function sharedMemoryKernel(memory: WasmMemory, reservedBytes: number): LzoKernel {
  const instance = new wasm.Instance(new wasm.Module(sharedKernelBytes), { env: { memory } });
  return new LzoKernel(instance.exports as unknown as KernelExports, reservedBytes);
}
