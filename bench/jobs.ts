/** What the main thread asks of a load-generator thread, and what it gets back. */

export type Job =
  | { kind: 'echo'; url: string; connections: number; inFlight: number; size: number }
  | {
      kind: 'fanout';
      url: string;
      subscribers: number;
      publisherUrl?: string;
      /** Frees the publisher's window instead of its own echo: a subscriber on the farthest node of a cluster. */
      confirmUrl?: string;
      window: number;
      size: number;
    }
  | { kind: 'publishers'; urls: string[]; window: number; size: number }
  | { kind: 'idle'; url: string; connections: number; concurrency: number }
  | { kind: 'storm'; url: string; connections: number; concurrency: number }
  | { kind: 'command'; url: string; connections: number; inFlight: number };

export interface WorkerResult {
  /** Replies (echo, command) or deliveries (fan-out, publishers) between go and stop. */
  completed: number;
  failures: number;
  connections: number;
  /** For storm: how long opening all connections took. */
  stormMs: number;
  histogram: Uint32Array;
}
