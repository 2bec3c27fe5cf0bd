// A pool of worker threads, each with its own WebAssembly kernel, shared by every parallel lzop stream
// of the process. Workers are started lazily and hold the event loop open only while they have work,
// so an idle pool never keeps the process alive. A crashed worker fails its own tasks and is replaced.
// Each worker's kernel memory is created here and shared with it; compression borrows regions of it
// (slots, see worker-protocol.ts).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { distPath } from '../../util/dist-path';
import { wasm } from './kernel';
import type { WasmMemory } from './kernel';
import {
  SLOT_INPUT_BYTES,
  SLOTS_PER_WORKER,
  slotInputOffset,
  slotOutputOffset,
  WORKER_MEMORY_PAGES,
} from './worker-protocol';
import type { CompressResult, LzoWorkerData, WorkerReply, WorkerResult, WorkerTask, WorkerTaskInput } from './worker-protocol';
import { onShutdown } from '../../util/cleanup';

export const WORKER_FILE = 'pipeline-lzop-lzop-worker.mjs';

interface Pending {
  resolve(result: WorkerResult): void;
  reject(error: Error): void;
}

/** How long close() lets a worker finish the tasks it holds before terminating it anyway. */
const DRAIN_TIMEOUT_MS = 2000;

/**
 * A compression slot lent to one stream: fill `input` (at most SLOT_INPUT_BYTES), then call compress()
 * once, or release() to give it back unused. compress() resolves with an owned copy of the framed blocks
 * and gives the slot back either way.
 */
export interface CompressSlot {
  readonly input: Uint8Array;
  compress(lengths: number[]): Promise<Buffer>;
  release(): void;
}

class PoolWorker {
  readonly worker: Worker;
  readonly memory: WasmMemory;
  /** Per slot: lent to a stream. */
  readonly slotBusy: boolean[] = new Array<boolean>(SLOTS_PER_WORKER).fill(false);
  /** Tasks whose callers still wait for them. */
  readonly pending = new Map<number, Pending>();
  /** Tasks posted to the thread and not yet answered (callers may have been told to stop waiting). */
  private outstanding = 0;
  private drained: (() => void) | undefined;
  /** Set once the thread failed, exited or is being closed: it takes no more tasks. */
  dead = false;
  private exited = false;
  private readonly exit: Promise<void>;

  constructor(file: string, onGone: (w: PoolWorker) => void) {
    this.memory = new wasm.Memory({ initial: WORKER_MEMORY_PAGES, maximum: WORKER_MEMORY_PAGES, shared: true });
    const data: LzoWorkerData = { memory: this.memory };
    this.worker = new Worker(file, { workerData: data });
    this.worker.unref();
    this.worker.on('message', (reply: WorkerReply) => {
      this.outstanding--;
      if (this.outstanding === 0) {
        this.worker.unref();
        this.drained?.();
      }
      const p = this.pending.get(reply.id);
      if (p === undefined) return;
      this.pending.delete(reply.id);
      if (reply.op === 'failed') p.reject(new Error(`lzop worker could not run a task: ${reply.message}`));
      else p.resolve(reply);
    });
    const fail = (error: Error): void => {
      const wasDead = this.dead;
      this.dead = true;
      if (!wasDead) onGone(this);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', (e: Error) => fail(new Error(`lzop worker failed: ${e.message}`, { cause: e })));
    this.worker.on('messageerror', (e: Error) => {
      fail(new Error(`lzop worker reply could not be read: ${e.message}`, { cause: e }));
      // Its replies can no longer be trusted to arrive: stop it rather than leave it holding the process.
      void this.worker.terminate();
    });
    this.exit = new Promise((resolve) => {
      this.worker.once('exit', (code) => {
        this.exited = true;
        this.outstanding = 0;
        this.drained?.();
        fail(new Error(`lzop worker exited unexpectedly (code ${code})`));
        resolve();
      });
    });
  }

  run(task: WorkerTask): Promise<WorkerResult> {
    return new Promise((resolve, reject) => {
      if (this.dead) {
        reject(new Error('lzop worker is gone'));
        return;
      }
      try {
        this.worker.postMessage(task);
      } catch (e) {
        // Nothing was sent (the task could not be cloned): fail this task only.
        reject(new Error(`lzop task could not be sent to a worker: ${(e as Error).message}`, { cause: e }));
        return;
      }
      if (this.outstanding++ === 0) this.worker.ref();
      this.pending.set(task.id, { resolve, reject });
    });
  }

  /**
   * Stops the thread once it has answered every task already posted to it (bounded by DRAIN_TIMEOUT_MS),
   * so it is never terminated in the middle of a task or while posting its reply.
   * Callers still waiting are rejected at once with `error`.
   */
  async close(error: Error): Promise<void> {
    this.dead = true;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
    if (this.exited) return;
    if (this.outstanding > 0) {
      this.worker.ref();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, DRAIN_TIMEOUT_MS);
        this.drained = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.drained = undefined;
    if (!this.exited) await this.worker.terminate();
    await this.exit;
  }
}

export class LzoWorkerPool {
  private readonly workers: PoolWorker[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number, private readonly workerFile: string = distPath(WORKER_FILE)) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`lzop pool size must be a positive integer, not ${size}`);
  }

  private readonly slotWaiters = new Set<() => void>();

  /** Runs one task on the least busy worker (streams use acquireSlot; this is for tests). */
  run(task: WorkerTaskInput): Promise<WorkerResult> {
    if (this.closed) return Promise.reject(new Error('lzop worker pool is closed'));
    let worker: PoolWorker;
    try {
      worker = this.pick();
    } catch (e) {
      return Promise.reject(new Error(`lzop worker could not be started: ${(e as Error).message}`, { cause: e }));
    }
    return this.post(worker, task);
  }

  private post(worker: PoolWorker, task: WorkerTaskInput): Promise<WorkerResult> {
    return worker.run({ ...task, id: this.nextId++ });
  }

  /**
   * Lends a free compression slot, on the worker with the fewest slots lent (starting a worker while
   * fewer than `size` run and every running one is busy), or undefined when all are lent: onSlotFree()
   * tells when to ask again. Throws when the pool is closed or a worker cannot be started.
   */
  acquireSlot(): CompressSlot | undefined {
    if (this.closed) throw new Error('lzop worker pool is closed');
    this.prune();
    let best: PoolWorker | undefined;
    let bestBusy = Infinity;
    for (const w of this.workers) {
      const busy = w.slotBusy.filter(Boolean).length;
      if (busy < SLOTS_PER_WORKER && busy < bestBusy) {
        best = w;
        bestBusy = busy;
      }
    }
    if ((best === undefined || bestBusy > 0) && this.workers.length < this.size) {
      try {
        best = this.start();
      } catch (e) {
        throw new Error(`lzop worker could not be started: ${(e as Error).message}`, { cause: e });
      }
    }
    if (best === undefined) return undefined;
    return this.lend(best, best.slotBusy.indexOf(false));
  }

  /** Calls `listener` once, the next time a slot is given back (or a worker is gone); returns a canceller. */
  onSlotFree(listener: () => void): () => void {
    this.slotWaiters.add(listener);
    return () => this.slotWaiters.delete(listener);
  }

  private slotFreed(): void {
    const waiters = [...this.slotWaiters];
    this.slotWaiters.clear();
    for (const w of waiters) w();
  }

  private lend(worker: PoolWorker, slot: number): CompressSlot {
    worker.slotBusy[slot] = true;
    let returned = false;
    const giveBack = (): void => {
      if (returned) return;
      returned = true;
      worker.slotBusy[slot] = false;
      this.slotFreed();
    };
    const input = new Uint8Array(worker.memory.buffer, slotInputOffset(slot), SLOT_INPUT_BYTES);
    return {
      input,
      release: giveBack,
      compress: async (lengths: number[]): Promise<Buffer> => {
        try {
          if (this.closed) throw new Error('lzop worker pool is closed');
          const r = (await this.post(worker, { op: 'compress', slot, lengths })) as CompressResult;
          // Copied out before the slot is given back: the next batch overwrites it.
          return Buffer.from(new Uint8Array(worker.memory.buffer, slotOutputOffset(slot), r.outputLength));
        } finally {
          giveBack();
        }
      },
    };
  }

  private prune(): void {
    for (let i = this.workers.length - 1; i >= 0; i--) if (this.workers[i]!.dead) this.workers.splice(i, 1);
  }

  private start(): PoolWorker {
    const w = new PoolWorker(this.workerFile, (gone) => {
      const i = this.workers.indexOf(gone);
      if (i >= 0) this.workers.splice(i, 1);
      // Streams waiting for one of its slots must look again (and learn of the failure from their task).
      this.slotFreed();
    });
    this.workers.push(w);
    return w;
  }

  private pick(): PoolWorker {
    this.prune();
    if (this.workers.length < this.size) return this.start();
    let best = this.workers[0]!;
    for (const w of this.workers) if (w.pending.size < best.pending.size) best = w;
    return best;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.slotFreed();
    const all = this.workers.splice(0);
    await Promise.all(all.map((w) => w.close(new Error('lzop worker pool closed with work in flight'))));
  }
}

const sharedPools = new Map<number, LzoWorkerPool>();

export function defaultPoolSize(): number {
  return Math.max(1, availableParallelism());
}

/** The process-wide pool of `size` workers (default: one per available CPU). */
export function sharedLzoPool(size: number = defaultPoolSize()): LzoWorkerPool {
  let pool = sharedPools.get(size);
  if (pool === undefined) {
    pool = new LzoWorkerPool(size);
    if (sharedPools.size === 0) onShutdown(closeSharedLzoPools);
    sharedPools.set(size, pool);
  }
  return pool;
}

/** Terminates every shared pool (tests and orderly shutdown); later use starts fresh workers. */
export async function closeSharedLzoPools(): Promise<void> {
  const pools = [...sharedPools.values()];
  sharedPools.clear();
  await Promise.all(pools.map((p) => p.close()));
}
