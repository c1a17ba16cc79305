/** What every bridge is to the server: something that starts, stops, and says how it is doing (for the banner and /healthz). */

/**
 * connecting: first try under way; connected: up (a peer answered); running: a program of its own is up;
 * retrying: lost or not reached, trying again (detail says why); failed: given up (detail says what to do).
 */
export type BridgeState = 'connecting' | 'running' | 'connected' | 'retrying' | 'failed' | 'stopped';

/** A state as people read it (the banner, the dashboard): connected is "up"; the rest read as they are. */
export function stateLabel(state: BridgeState): string {
  return state === 'connected' ? 'up' : state;
}

export interface BridgeStatus {
  name: string;
  type: string;
  state: BridgeState;
  /** What it is connected to, or why it is retrying. */
  detail: string;
}

export interface Bridge {
  start(): void;
  stop(): Promise<void>;
  status(): BridgeStatus;
}

/** A bridge's status in one place: what /healthz and the banner show. */
export class StatusBoard {
  private current: BridgeStatus;

  constructor(name: string, type: string) {
    this.current = { name, type, state: 'stopped', detail: 'not started' };
  }

  set(state: BridgeState, detail: string): void {
    this.current = { ...this.current, state, detail };
  }

  get(): BridgeStatus {
    return this.current;
  }
}
