// A pool of worker threads, each with its own WebAssembly kernel, shared by every parallel lzop stream
// of the process. Workers are started lazily and hold the event loop open only while they have work,
// so an idle pool never keeps the process alive. A crashed worker fails its own tasks and is replaced.
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { distPath } from '../../util/dist-path';
import type { WorkerReply, WorkerResult, WorkerTask, WorkerTaskInput } from './worker-protocol';
import { onShutdown } from '../../util/cleanup';

export const WORKER_FILE = 'pipeline-lzop-lzop-worker.mjs';

interface Pending {
  resolve(result: WorkerResult): void;
  reject(error: Error): void;
}

/** How long close() lets a worker finish the tasks it holds before terminating it anyway. */
const DRAIN_TIMEOUT_MS = 2000;

class PoolWorker {
  readonly worker: Worker;
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
    this.worker = new Worker(file);
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
    this.worker.on('messageerror', (e: Error) => fail(new Error(`lzop worker reply could not be read: ${e.message}`, { cause: e })));
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

  run(task: WorkerTask, transfer: ArrayBuffer[]): Promise<WorkerResult> {
    return new Promise((resolve, reject) => {
      if (this.dead) {
        reject(new Error('lzop worker is gone'));
        return;
      }
      try {
        this.worker.postMessage(task, transfer);
      } catch (e) {
        // Nothing was sent (e.g. a detached buffer in the transfer list): fail this task only.
        reject(new Error(`lzop task could not be sent to a worker: ${(e as Error).message}`, { cause: e }));
        return;
      }
      if (this.outstanding++ === 0) this.worker.ref();
      this.pending.set(task.id, { resolve, reject });
    });
  }

  /**
   * Stops the thread once it has answered every task already posted to it (bounded by DRAIN_TIMEOUT_MS),
   * so it is never terminated in the middle of a task or while posting a reply with transferred buffers.
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

  /** Runs one task on the least busy worker; `transfer` moves the task's buffers to the worker. */
  run(task: WorkerTaskInput, transfer: ArrayBuffer[]): Promise<WorkerResult> {
    if (this.closed) return Promise.reject(new Error('lzop worker pool is closed'));
    let worker: PoolWorker;
    try {
      worker = this.pick();
    } catch (e) {
      return Promise.reject(new Error(`lzop worker could not be started: ${(e as Error).message}`, { cause: e }));
    }
    return worker.run({ ...task, id: this.nextId++ } as WorkerTask, transfer);
  }

  private pick(): PoolWorker {
    for (let i = this.workers.length - 1; i >= 0; i--) if (this.workers[i]!.dead) this.workers.splice(i, 1);
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
