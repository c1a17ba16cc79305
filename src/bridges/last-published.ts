/**
 * What a bridge last published per key, to publish only what changed. The
 * keys come from an app's answers, so their number is bounded: past `max`
 * the key published longest ago is forgotten (it is published again the next
 * time it comes, which is harmless). Keys and values are kept as digests, so
 * the memory held is about 100 bytes an entry however long the app's lines are.
 */
import { createHash } from 'node:crypto';

/** A fixed-size stand-in for a text (a deletion, undefined, has its own). */
function digest(text: string | undefined): string {
  return text === undefined ? '-' : createHash('sha256').update(text).digest('base64');
}

export class LastPublished {
  private readonly values = new Map<string, string>();

  constructor(private readonly max: number) {}

  /** Records `value` under `key`; true when it differs from what was recorded (or nothing was). */
  changed(key: string, value: string | undefined): boolean {
    const id = digest(key);
    const now = digest(value);
    if (this.values.get(id) === now) return false;
    this.values.delete(id); // re-inserted last: the Map's order is then "least recently published first"
    this.values.set(id, now);
    if (this.values.size > this.max) this.values.delete(this.values.keys().next().value as string);
    return true;
  }

  /** Forgets `key` (its value could not be delivered: the next one is a change again). */
  forget(key: string): void {
    this.values.delete(digest(key));
  }

  get size(): number {
    return this.values.size;
  }
}
