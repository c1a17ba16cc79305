/**
 * Pausing the reading of one client's socket, for more than one reason at a
 * time (over its inbound allowance; its outbound side congested): reading
 * stops while any reason holds and resumes when the last one is released, so
 * the reasons never undo each other. While nothing is read, TCP pushes back
 * on the client: what it sends waits in its own buffers, not in the server.
 */
export interface Pausable {
  pause(): void;
  resume(): void;
}

export class ReadPause {
  /** The reasons that hold; made at the first (most connections are never paused). */
  private reasons: Set<string> | undefined;

  constructor(private readonly socket: Pausable) {}

  /** Stops reading for `reason` (again is a no-op). */
  hold(reason: string): void {
    this.reasons ??= new Set();
    if (this.reasons.size === 0) this.socket.pause();
    this.reasons.add(reason);
  }

  /** Ends `reason`; reading resumes once no reason is left. */
  release(reason: string): void {
    if (this.reasons?.delete(reason) && this.reasons.size === 0) this.socket.resume();
  }

  get paused(): boolean {
    return (this.reasons?.size ?? 0) > 0;
  }

  has(reason: string): boolean {
    return this.reasons?.has(reason) ?? false;
  }
}
