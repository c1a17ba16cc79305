/** Bench messages: text (as Resonite sends), starting with the send time in µs so any receiver can measure latency. */
import { nowMicros } from './histogram.js';

export function makePayload(size: number): () => string {
  const padding = 'x'.repeat(size);
  return () => {
    const stamp = `${nowMicros()}|`;
    return stamp + padding.slice(stamp.length);
  };
}

/** The send time in a received payload, or NaN. */
export function sentAt(text: string): number {
  return Number(text.slice(0, text.indexOf('|')));
}
