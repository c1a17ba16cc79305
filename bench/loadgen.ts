/** Runs jobs on worker threads (one per job), starts them together, and gathers the results. */
import { Worker } from 'node:worker_threads';
import { merge, newHistogram, percentiles } from './histogram.js';
import type { Job, WorkerResult } from './jobs.js';
import { cpuMs } from './proc.js';

export interface Outcome {
  completed: number;
  failures: number;
  connections: number;
  perSecond: number;
  p50: number;
  p99: number;
  stormMs: number;
  /** Messages the flooders sent, per second. */
  sentPerSecond: number;
  /** Server CPU time during the measured window, in ms (when its pid was given). */
  serverCpuMs?: number;
  elapsedMs: number;
}

/**
 * Connects every job's clients, calls `whenReady` (e.g. to read the server's
 * memory), lets them run for `durationMs`, then stops them.
 */
export interface RunOptions {
  durationMs: number;
  warmupMs: number;
  /** The server process (or a cluster's processes), to measure its CPU time during the window. */
  serverPid?: number | readonly number[];
  whenReady?: () => Promise<void>;
}

export async function runJobs(jobs: Job[], { durationMs, warmupMs, serverPid, whenReady }: RunOptions): Promise<Outcome> {
  const workers = jobs.map((job) => new Worker(new URL('./worker-entry.mjs', import.meta.url), { workerData: job }));
  try {
    const ready = workers.map((worker) => nextMessage(worker));
    const readiness = await Promise.all(ready);
    if (whenReady) await whenReady();
    const results = workers.map((worker) => nextMessage(worker));
    for (const worker of workers) worker.postMessage({ type: 'go' });
    if (warmupMs > 0) {
      await sleep(warmupMs);
      for (const worker of workers) worker.postMessage({ type: 'reset' });
    }
    const started = performance.now();
    const pids = serverPid === undefined ? [] : [serverPid].flat();
    const serverCpu = () => pids.reduce((total, pid) => total + cpuMs(pid), 0);
    const cpuBefore = serverCpu();
    await sleep(durationMs);
    for (const worker of workers) worker.postMessage({ type: 'stop' });
    const serverCpuMs = pids.length > 0 ? serverCpu() - cpuBefore : undefined;
    const elapsedMs = performance.now() - started;
    const elapsed = elapsedMs / 1000;
    const outcomes = (await Promise.all(results)).map((message) => message.result as WorkerResult);
    const histogram = newHistogram();
    for (const outcome of outcomes) merge(histogram, outcome.histogram);
    const completed = outcomes.reduce((sum, outcome) => sum + outcome.completed, 0);
    const [p50 = Number.NaN, p99 = Number.NaN] = percentiles(histogram, [50, 99]);
    return {
      completed,
      failures: readiness.reduce((sum, message) => sum + (message.failures as number), 0),
      connections: readiness.reduce((sum, message) => sum + (message.connections as number), 0),
      perSecond: completed / elapsed,
      p50,
      p99,
      stormMs: Math.max(...outcomes.map((outcome) => outcome.stormMs)),
      sentPerSecond: outcomes.reduce((sum, outcome) => sum + outcome.sent, 0) / elapsed,
      serverCpuMs,
      elapsedMs,
    };
  } finally {
    await Promise.all(workers.map((worker) => worker.terminate()));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function nextMessage(worker: Worker): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    worker.once('error', onError);
    worker.once('message', (message: Record<string, unknown>) => {
      worker.off('error', onError);
      resolve(message);
    });
  });
}

/** Splits `total` into `parts` nearly equal shares. */
export function shares(total: number, parts: number): number[] {
  return Array.from({ length: parts }, (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0));
}
