/** Bench messages: text (as Resonite sends), starting with the send time in µs so any receiver can measure latency. */
import { nowMicros } from './histogram.js';

export function makePayload(size: number): () => string {
  const padding = 'x'.repeat(size);
  return () => {
    const stamp = `${nowMicros()}|`;
    return stamp + padding.slice(stamp.length);
  };
}

/**
 * An app's JSON message of about `size` bytes with the send time first, `{"t":<µs>,"type":"tick","pad":"xx…"}`
 * (the websocket bridge scenario: relayed raw, or mapped to the line `<µs>|tick|xx…`).
 */
export function makeAppPayload(size: number): () => string {
  const padding = 'x'.repeat(size);
  return () => {
    const head = `{"t":${nowMicros()},"type":"tick","pad":"`;
    return `${head}${padding.slice(head.length + 2)}"}`;
  };
}

/** The send time in a received payload (a line starting with it, or an app's JSON starting with `{"t":`), or NaN. */
export function sentAt(text: string): number {
  if (text.startsWith('{"t":')) return Number(text.slice(5, text.indexOf(',')));
  return Number(text.slice(0, text.indexOf('|')));
}
