// Host side of the WebAssembly LZO kernel (assembly/). One instance per thread, created synchronously on
// first use. The kernel owns no buffers: this class lays out [input | slack | output | slack] above the
// kernel's tables and grows the memory when a block needs more room than any block before it.
import kernelBytes from '../../../build/generated/lzo-kernel.wasm';

// The project's TypeScript libs do not describe WebAssembly; this is the little the host needs.
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: unknown };
  Memory: new (descriptor: { initial: number; maximum?: number; shared?: boolean }) => WasmMemory;
}
export const wasm = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

export interface KernelExports {
  memory: WasmMemory;
  BUFFERS_BASE: { value: number };
  compress(src: number, srcLen: number, dst: number): number;
  compressBound(len: number): number;
  decompress(src: number, srcLen: number, dst: number, dstLen: number): number;
  adler32(seed: number, ptr: number, len: number): number;
  crc32(seed: number, ptr: number, len: number): number;
}

/** Spare bytes after each buffer: the decoder's word-sized copies may touch up to 15 of them. */
const SLACK = 64;
const PAGE = 65536;
/** Checksums of data that is not already inside the kernel go through a window of this size. */
const CHECKSUM_WINDOW = 1 << 20;

export type ChecksumKind = 'adler32' | 'crc32';

/** Decoder results, as returned by the kernel. */
export const LZO_E_INPUT_OVERRUN = -1;
export const LZO_E_OUTPUT_OVERRUN = -2;
export const LZO_E_LOOKBEHIND_OVERRUN = -3;
export const LZO_E_OUTPUT_UNDERRUN = -4;
export const LZO_E_INPUT_NOT_CONSUMED = -5;

export function lzoErrorText(code: number): string {
  switch (code) {
    case LZO_E_INPUT_OVERRUN:
      return 'LZO data ends too early (input overrun)';
    case LZO_E_OUTPUT_OVERRUN:
      return 'LZO data produces more than the block size (output overrun)';
    case LZO_E_LOOKBEHIND_OVERRUN:
      return 'LZO match reaches before the start of the block (lookbehind overrun)';
    case LZO_E_OUTPUT_UNDERRUN:
      return 'LZO end marker before the block size was reached';
    case LZO_E_INPUT_NOT_CONSUMED:
      return 'bytes follow the LZO end marker';
    default:
      return `LZO decoder error ${code}`;
  }
}

/** A decoding failure of a single LZO1X stream. */
export class LzoDataError extends Error {
  constructor(readonly code: number) {
    super(lzoErrorText(code));
    this.name = 'LzoDataError';
  }
}

function align(n: number): number {
  return (n + 63) & ~63;
}

export class LzoKernel {
  private readonly exports: KernelExports;
  private readonly base: number;
  private heap: Uint8Array;

  /**
   * A kernel with its own memory, or (for a pool worker) over `exports` of an instance whose memory is
   * shared with the main thread, keeping its scratch buffers above the first `reservedBytes` after the
   * tables (the region the main thread writes blocks into and reads framed output from).
   */
  constructor(exports?: KernelExports, reservedBytes = 0) {
    this.exports = exports ?? (new wasm.Instance(new wasm.Module(kernelBytes), {}).exports as unknown as KernelExports);
    this.base = align(this.exports.BUFFERS_BASE.value + reservedBytes);
    this.heap = new Uint8Array(this.exports.memory.buffer);
  }

  /** The kernel's whole memory, as of now (a grown memory gets a new view). */
  memoryView(): Uint8Array {
    // Compared by length: a grown plain memory detaches the old buffer, a grown shared one does not.
    if (this.heap.byteLength !== this.exports.memory.buffer.byteLength) this.heap = new Uint8Array(this.exports.memory.buffer);
    return this.heap;
  }

  /** Compresses `len` bytes at `inPtr` to `outPtr` (room for compressBound(len) plus slack); returns the size. */
  compressAt(inPtr: number, len: number, outPtr: number): number {
    return this.exports.compress(inPtr, len, outPtr);
  }

  compressBound(len: number): number {
    return this.exports.compressBound(len);
  }

  /** Makes room for an input of `inLen` and an output of `outLen` bytes; returns both offsets. */
  private layout(inLen: number, outLen: number): { inPtr: number; outPtr: number } {
    const inPtr = this.base;
    const outPtr = inPtr + align(inLen + SLACK);
    const end = outPtr + align(outLen + SLACK);
    const have = this.exports.memory.buffer.byteLength;
    if (end > have) this.exports.memory.grow(Math.ceil((end - have) / PAGE));
    this.memoryView();
    return { inPtr, outPtr };
  }

  checksumAt(kind: ChecksumKind, ptr: number, len: number, seed?: number): number {
    const r =
      kind === 'adler32'
        ? this.exports.adler32(seed ?? 1, ptr, len)
        : this.exports.crc32(seed ?? 0, ptr, len);
    return r >>> 0;
  }

  /**
   * Compresses one block. Returns a view of the compressed bytes inside the kernel's memory, valid until
   * the next call on this kernel, and the requested checksum of the input.
   */
  compressBlock(src: Uint8Array, checksum?: ChecksumKind): { compressed: Uint8Array; checksum: number } {
    const { inPtr, outPtr } = this.layout(src.length, this.compressBound(src.length));
    this.heap.set(src, inPtr);
    const sum = checksum ? this.checksumAt(checksum, inPtr, src.length) : 0;
    const n = this.exports.compress(inPtr, src.length, outPtr);
    return { compressed: this.heap.subarray(outPtr, outPtr + n), checksum: sum };
  }

  /**
   * Decodes one LZO1X stream that must produce exactly `dstLen` bytes. Returns a view inside the kernel's
   * memory (valid until the next call) plus the requested checksums of the output and of the input.
   * Throws LzoDataError on any decoding error.
   */
  decompressBlock(
    src: Uint8Array,
    dstLen: number,
    outputChecksum?: ChecksumKind,
    inputChecksum?: ChecksumKind,
  ): { data: Uint8Array; outputChecksum: number; inputChecksum: number } {
    const { inPtr, outPtr } = this.layout(src.length, dstLen);
    this.heap.set(src, inPtr);
    const inSum = inputChecksum ? this.checksumAt(inputChecksum, inPtr, src.length) : 0;
    const r = this.exports.decompress(inPtr, src.length, outPtr, dstLen);
    if (r < 0) throw new LzoDataError(r);
    if (r !== dstLen) throw new LzoDataError(LZO_E_OUTPUT_UNDERRUN);
    const outSum = outputChecksum ? this.checksumAt(outputChecksum, outPtr, dstLen) : 0;
    return { data: this.heap.subarray(outPtr, outPtr + dstLen), outputChecksum: outSum, inputChecksum: inSum };
  }

  /** Checksum of bytes held by the caller, streamed through a bounded window of kernel memory. */
  checksum(kind: ChecksumKind, data: Uint8Array, seed?: number): number {
    let sum = seed ?? (kind === 'adler32' ? 1 : 0);
    const { inPtr } = this.layout(Math.min(data.length, CHECKSUM_WINDOW), 0);
    for (let off = 0; off < data.length; off += CHECKSUM_WINDOW) {
      const piece = data.subarray(off, Math.min(data.length, off + CHECKSUM_WINDOW));
      this.heap.set(piece, inPtr);
      sum = this.checksumAt(kind, inPtr, piece.length, sum);
    }
    return sum >>> 0;
  }
}

let threadKernel: LzoKernel | undefined;

/** This thread's kernel, instantiated on first use (a few hundred microseconds, once). */
export function lzoKernel(): LzoKernel {
  threadKernel ??= new LzoKernel();
  return threadKernel;
}
