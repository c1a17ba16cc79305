/** What every bridge is to the server: something that starts, stops, and says how it is doing (for the banner and /healthz). */

export type BridgeState = 'running' | 'connected' | 'retrying' | 'failed' | 'stopped';

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
