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
  /**
   * A local app with a WebSocket API on `port`: it waits for the server's websocket bridge to connect, then sends
   * JSON messages keeping `window` not yet seen by an extra subscriber; `subscribers` more listen on `url`.
   */
  | { kind: 'app'; port: number; url: string; subscribers: number; window: number; size: number }
  | { kind: 'idle'; url: string; connections: number; concurrency: number }
  /** `warmup` connections are opened first, untimed (the server's handshake code warms up, the kernel settles from the last scenario). */
  | { kind: 'storm'; url: string; connections: number; warmup: number; concurrency: number }
  | { kind: 'command'; url: string; connections: number; inFlight: number }
  /** Flooders: each connection from its own loopback address (127.0.0.<firstAddress + i>), sending as fast as its socket takes it. */
  | { kind: 'flood'; url: string; connections: number; firstAddress: number; size: number }
  /** A well-behaved client, as a world or an app would be: one request at a time, at most one per `intervalMs`. */
  | { kind: 'steady'; url: string; intervalMs: number; size: number };

export interface WorkerResult {
  /** Replies (echo, command) or deliveries (fan-out, publishers) between go and stop. */
  completed: number;
  failures: number;
  connections: number;
  /** For storm: how long opening all connections took. */
  stormMs: number;
  histogram: Uint32Array;
  /** Messages sent without waiting for an answer (flood). */
  sent: number;
}
