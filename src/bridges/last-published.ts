/**
 * What a bridge last published per key, to publish only what changed. The
 * keys come from an app's answers, so their number is bounded: past `max`
 * the key published longest ago is forgotten (it is published again the next
 * time it comes, which is harmless).
 */
export class LastPublished {
  private readonly values = new Map<string, string | undefined>();

  constructor(private readonly max: number) {}

  /** Records `value` under `key`; true when it differs from what was recorded (or nothing was). */
  changed(key: string, value: string | undefined): boolean {
    if (this.values.has(key) && this.values.get(key) === value) return false;
    this.values.delete(key); // re-inserted last: the Map's order is then "least recently published first"
    this.values.set(key, value);
    if (this.values.size > this.max) this.values.delete(this.values.keys().next().value as string);
    return true;
  }

  /** Forgets `key` (its value could not be delivered: the next one is a change again). */
  forget(key: string): void {
    this.values.delete(key);
  }

  get size(): number {
    return this.values.size;
  }
}
