// A pool of worker threads, each with its own WebAssembly kernel, shared by every parallel lzop stream
// of the process. Workers are started lazily and hold the event loop open only while they have work,
// so an idle pool never keeps the process alive. A crashed worker fails its own tasks and is replaced.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { distPath } from '../../util/dist-path';
import type { WorkerResult, WorkerTask, WorkerTaskInput } from './worker-protocol';

export const WORKER_FILE = 'pipeline-lzop-lzop-worker.mjs';

interface Pending {
  resolve(result: WorkerResult): void;
  reject(error: Error): void;
}

class PoolWorker {
  readonly worker: Worker;
  readonly pending = new Map<number, Pending>();
  dead = false;

  constructor(file: string, onGone: (w: PoolWorker) => void) {
    this.worker = new Worker(file);
    this.worker.unref();
    this.worker.on('message', (result: WorkerResult) => {
      const p = this.pending.get(result.id);
      if (p === undefined) return;
      this.pending.delete(result.id);
      if (this.pending.size === 0) this.worker.unref();
      p.resolve(result);
    });
    const fail = (error: Error): void => {
      if (this.dead) return;
      this.dead = true;
      onGone(this);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    this.worker.on('error', (e: Error) => fail(new Error(`lzop worker failed: ${e.message}`, { cause: e })));
    this.worker.on('exit', (code) => fail(new Error(`lzop worker exited unexpectedly (code ${code})`)));
  }

  run(task: WorkerTask, transfer: ArrayBuffer[]): Promise<WorkerResult> {
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(task.id, { resolve, reject });
      this.worker.postMessage(task, transfer);
    });
  }
}

export class LzoWorkerPool {
  private readonly workers: PoolWorker[] = [];
  private nextId = 1;
  private closed = false;

  constructor(readonly size: number, private readonly workerFile: string = distPath(WORKER_FILE)) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`lzop pool size must be a positive integer, not ${size}`);
  }

  /** Runs one task on the least busy worker; `transfer` moves the task's buffers to the worker. */
  run(task: WorkerTaskInput, transfer: ArrayBuffer[]): Promise<WorkerResult> {
    if (this.closed) return Promise.reject(new Error('lzop worker pool is closed'));
    const worker = this.pick();
    return worker.run({ ...task, id: this.nextId++ } as WorkerTask, transfer);
  }

  private pick(): PoolWorker {
    if (this.workers.length < this.size) {
      const w = new PoolWorker(this.workerFile, (gone) => {
        const i = this.workers.indexOf(gone);
        if (i >= 0) this.workers.splice(i, 1);
      });
      this.workers.push(w);
      return w;
    }
    let best = this.workers[0]!;
    for (const w of this.workers) if (w.pending.size < best.pending.size) best = w;
    return best;
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = this.workers.splice(0);
    for (const w of all) {
      w.dead = true;
      for (const p of w.pending.values()) p.reject(new Error('lzop worker pool closed with work in flight'));
      w.pending.clear();
    }
    await Promise.all(all.map((w) => w.worker.terminate()));
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
