/** Latency histogram with 1 µs buckets up to 1 s; O(1) to record, mergeable across worker threads. */
export const MAX_US = 1_000_000;

export function newHistogram(): Uint32Array {
  return new Uint32Array(MAX_US + 1);
}

export function record(histogram: Uint32Array, micros: number): void {
  const bucket = micros < 0 ? 0 : micros > MAX_US ? MAX_US : Math.floor(micros);
  histogram[bucket] = (histogram[bucket] ?? 0) + 1;
}

export function merge(into: Uint32Array, from: Uint32Array): void {
  for (let i = 0; i < from.length; i++) {
    const count = from[i] ?? 0;
    if (count) into[i] = (into[i] ?? 0) + count;
  }
}

/** Percentiles in milliseconds, e.g. percentiles(h, [50, 99]). */
export function percentiles(histogram: Uint32Array, wanted: number[]): number[] {
  let total = 0;
  for (const count of histogram) total += count;
  if (total === 0) return wanted.map(() => Number.NaN);
  const targets = wanted.map((p) => Math.ceil((p / 100) * total));
  const results: number[] = [];
  let seen = 0;
  let next = 0;
  for (let us = 0; us < histogram.length && next < targets.length; us++) {
    seen += histogram[us] ?? 0;
    while (next < targets.length && seen >= (targets[next] ?? 0)) {
      results.push(us / 1000);
      next++;
    }
  }
  return results;
}

/** Microseconds on a clock shared by all threads of the process. */
export const nowMicros = (): number => Number(process.hrtime.bigint() / 1000n);
