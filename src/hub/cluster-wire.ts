/**
 * What nodes say to each other over the broker, as JSON envelopes. Every
 * envelope names its node (`n`) and carries that node's sequence number
 * (`s`, increasing over everything it sends): the node lets a receiver drop
 * its own echoes, the sequence orders presence snapshots against live events.
 * Other nodes' payloads are untrusted input: decode() checks every field.
 */
import { z } from 'zod';
import { NAME } from '../protocol/names.js';

const node = z.string().min(1).max(100);
const seq = z.number().int().nonnegative();
const channel = z.string().regex(NAME);
const name = z.string().max(1_000);
/** Most memberships one node may claim in one channel: a forged list cannot make every node loop or fill its heap. */
export const MAX_MEMBERSHIPS = 1_000_000;
/** A node's members of one channel: name → how many memberships. */
const counts = z
  .record(name, z.number().int().positive().max(MAX_MEMBERSHIPS))
  .refine((list) => Object.values(list).reduce((sum, n) => sum + n, 0) <= MAX_MEMBERSHIPS, { message: 'too many memberships' });

const envelope = z.discriminatedUnion('t', [
  /** A channel message. */
  z.object({ t: z.literal('m'), n: node, s: seq, c: channel, f: name, x: z.string(), k: z.string().optional() }),
  /** Joined/left, with the node's whole member list of the channel after it. */
  z.object({ t: z.enum(['j', 'l']), n: node, s: seq, c: channel, f: name, p: counts }),
  /** A key changed (v null: deleted). */
  z.object({ t: z.literal('k'), n: node, s: seq, ns: z.string(), key: z.string(), v: z.string().nullable() }),
  /** Alive; `e` (epoch) changes when the node reconnected and stored its member lists again: re-read them. */
  z.object({ t: z.literal('h'), n: node, s: seq, e: seq }),
]);

export type Envelope = z.infer<typeof envelope>;

/** A node's stored member list of one channel, at sequence `s`. */
const entry = z.object({ s: seq, p: counts });
export type PresenceEntry = z.infer<typeof entry>;

export function encode(value: Envelope | PresenceEntry): string {
  return JSON.stringify(value);
}

/** The envelope, or undefined when the payload is not one. */
export function decode(payload: string): Envelope | undefined {
  return parse(envelope, payload);
}

export function decodeEntry(payload: string): PresenceEntry | undefined {
  return parse(entry, payload);
}

function parse<T>(schema: z.ZodType<T>, payload: string): T | undefined {
  try {
    const parsed = schema.safeParse(JSON.parse(payload));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
