/**
 * A first-in first-out queue with O(1) push and shift (an array and a head
 * index, compacted now and then), for the pacer's lanes: `Array#shift` is
 * O(n) and a busy client's queue is shifted once per message.
 */
export class Fifo<T> {
  private items: (T | undefined)[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The oldest item, left in place. */
  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) this.clear();
    else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return item;
  }

  /** The oldest item that matches, left in place. */
  find(match: (item: T) => boolean): T | undefined {
    for (let i = this.head; i < this.items.length; i++) {
      const item = this.items[i] as T;
      if (match(item)) return item;
    }
    return undefined;
  }

  forEach(visit: (item: T) => void): void {
    for (let i = this.head; i < this.items.length; i++) visit(this.items[i] as T);
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }
}
