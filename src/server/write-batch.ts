/**
 * Batches the frames written to one socket within one turn of the event loop
 * into one system call. A socket is corked at its first frame in a turn and
 * uncorked, with every other socket corked in that turn, when the turn's I/O
 * callbacks are done (setImmediate: the check phase, after every socket that
 * was ready in this turn has been read). Node then writes each socket's frames
 * with one writev. A fan-out of 20 messages read in one chunk costs each
 * subscriber one write instead of 20, and a member of a channel where ten
 * clients published in the same turn gets their ten messages in one write.
 * Nothing waits longer than the rest of the turn (the poll for new I/O does
 * not block while an immediate is pending); the bench measures p99 lower than
 * writing at once (docs/performance.md).
 *
 * Bound: a batch goes as soon as `flushAt` bytes wait in it (FLUSH_AT_BYTES, or
 * less where the connection's own bounds are smaller), and a socket that already
 * holds that much (its client reads slowly) is not corked at all. So a large
 * burst (a history replay) still reaches the kernel as it is written, and the
 * bytes that pacing counts as waiting are, past `flushAt`, bytes the client has
 * not read.
 */

/** What a batch needs of a socket (net.Socket, tls.TLSSocket). */
export interface Corkable {
  cork(): void;
  uncork(): void;
  write(bytes: Buffer): boolean;
  readonly writableLength: number;
}

export const FLUSH_AT_BYTES = 64 * 1024;

export class WriteBatch {
  private corked = false;

  constructor(
    private readonly socket: Corkable,
    private readonly flushAt = FLUSH_AT_BYTES,
  ) {}

  /** Writes `bytes` into this turn's batch; a batch that reaches flushAt goes at once. */
  write(bytes: Buffer): void {
    this.begin();
    this.socket.write(bytes);
    if (this.corked && this.socket.writableLength >= this.flushAt) this.flush();
  }

  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    this.socket.uncork();
  }

  /** Corks the socket for the rest of this turn, unless it already holds flushAt (its client reads slowly). */
  private begin(): void {
    if (this.corked || this.socket.writableLength >= this.flushAt) return;
    this.corked = true;
    this.socket.cork();
    if (pending.length === 0) setImmediate(flushAll);
    pending.push(this);
  }
}

/** Batches corked in this turn: one entry per cork, and a socket is corked again only after a flush of flushAt bytes, so this is bounded by the bytes written in the turn / flushAt plus the open sockets. */
const pending: WriteBatch[] = [];

function flushAll(): void {
  // A batch flushed early and corked again appears twice; flush() skips the second.
  for (let i = 0; i < pending.length; i++) pending[i]?.flush();
  pending.length = 0;
}
