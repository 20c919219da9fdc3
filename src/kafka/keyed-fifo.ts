/**
 * The sink's queue of data records: an array-backed FIFO with O(1) amortised shift, that
 * also finds an item by its key without a scan. Each item carries its wire size, counted
 * once when it is pushed; `bytes` is what the items hold (wire size plus `overhead` each).
 *
 * The key index is for overflow recovery: when a full buffer pushes a symbol's oldest bar
 * out, the rest of that symbol's queued bars are taken back. A scan of the whole queue per
 * symbol hit was O(queue) each time: under an overload of 12,000 symbols against a buffer
 * of ~48,000 bars, the gateway spent its time scanning and stopped answering /metrics.
 * Items taken out by key leave a hole behind, which shifting steps over.
 */
export class KeyedFifo<T> {
  /** Queued items; `undefined` marks a hole left by `removeByKey`. */
  #items: (T | undefined)[] = [];
  #wire: number[] = [];
  /** Index in #items of the first item not yet shifted. */
  #head = 0;
  /** Sequence number of #items[0]: an item's sequence number never changes while it is queued. */
  #base = 0;
  #live = 0;
  #wireTotal = 0;
  /**
   * Sequence numbers of the queued items of each key, oldest first. Built by the first
   * `removeByKey` and dropped once the queue is empty: keeping it up to date cost 3% of the
   * firehose, where nothing is ever taken back.
   */
  #byKey: Map<string, number[]> | null = null;
  readonly #overhead: number;
  readonly #keyOf: (item: T) => string;

  constructor(overhead: number, keyOf: (item: T) => string) {
    this.#overhead = overhead;
    this.#keyOf = keyOf;
  }

  get length(): number {
    return this.#live;
  }

  /** Held bytes of the queued items. */
  get bytes(): number {
    return this.#wireTotal + this.#live * this.#overhead;
  }

  push(item: T, wire: number): void {
    const seq = this.#base + this.#items.length;
    this.#items.push(item);
    this.#wire.push(wire);
    this.#live += 1;
    this.#wireTotal += wire;
    if (this.#byKey !== null) this.#index(this.#byKey, item, seq);
  }

  #index(byKey: Map<string, number[]>, item: T, seq: number): void {
    const key = this.#keyOf(item);
    const list = byKey.get(key);
    if (list === undefined) byKey.set(key, [seq]);
    else list.push(seq);
  }

  /**
   * Removes and returns, in queue order, the queued items whose key is one of `keys` and that
   * match `predicate`. Only those keys' items are looked at.
   */
  removeByKey(keys: Iterable<string>, predicate: (item: T) => boolean): T[] {
    const removed: { seq: number; item: T }[] = [];
    let byKey = this.#byKey;
    if (byKey === null) {
      byKey = this.#byKey = new Map();
      for (let i = this.#head; i < this.#items.length; i += 1) {
        const item = this.#items[i];
        if (item !== undefined) this.#index(byKey, item, this.#base + i);
      }
    }
    for (const key of keys) {
      const list = byKey.get(key);
      if (list === undefined) continue;
      const kept: number[] = [];
      for (const seq of list) {
        const i = seq - this.#base;
        const item = this.#items[i] as T;
        if (!predicate(item)) {
          kept.push(seq);
          continue;
        }
        removed.push({ seq, item });
        this.#items[i] = undefined;
        this.#wireTotal -= this.#wire[i]!;
        this.#wire[i] = 0;
        this.#live -= 1;
      }
      if (kept.length === 0) byKey.delete(key);
      else byKey.set(key, kept);
    }
    removed.sort((a, b) => a.seq - b.seq);
    return removed.map((r) => r.item);
  }

  /** Removes and returns the queued items matching `predicate`, keeping the others in order. */
  removeWhere(predicate: (item: T) => boolean): T[] {
    const queued: { item: T; wire: number }[] = [];
    for (let i = this.#head; i < this.#items.length; i += 1) {
      const item = this.#items[i];
      if (item !== undefined) queued.push({ item, wire: this.#wire[i]! });
    }
    this.#items = [];
    this.#wire = [];
    this.#byKey = null;
    this.#base += this.#head;
    this.#head = 0;
    this.#live = 0;
    this.#wireTotal = 0;
    const removed: T[] = [];
    for (const { item, wire } of queued) {
      if (predicate(item)) removed.push(item);
      else this.push(item, wire);
    }
    return removed;
  }

  /**
   * Removes up to `count` items from the front, stopping before their wire size would pass
   * `wireBudget` or their held bytes `heldBudget` (always at least one).
   */
  shiftWithin(count: number, wireBudget: number, heldBudget: number): T[] {
    let taken = 0;
    let wire = 0;
    for (let i = this.#head; taken < count && i < this.#items.length; i += 1) {
      if (this.#items[i] === undefined) continue;
      const cost = this.#wire[i]!;
      if (taken > 0 && (wire + cost > wireBudget || wire + cost + (taken + 1) * this.#overhead > heldBudget)) break;
      wire += cost;
      taken += 1;
    }
    return this.shift(taken);
  }

  /**
   * Removes items from the front until at least `count` are gone and their held bytes reach
   * `bytes`, but never the newest.
   */
  shiftUntil(count: number, bytes: number): T[] {
    let taken = 0;
    let freed = 0;
    for (let i = this.#head; (taken < count || freed < bytes) && this.#live - taken > 1 && i < this.#items.length; i += 1) {
      if (this.#items[i] === undefined) continue;
      freed += this.#wire[i]! + this.#overhead;
      taken += 1;
    }
    return this.shift(taken);
  }

  /** Removes up to `count` items from the front. */
  shift(count: number): T[] {
    const taken: T[] = [];
    while (taken.length < count && this.#head < this.#items.length) {
      const item = this.#items[this.#head];
      if (item !== undefined) {
        taken.push(item);
        this.#wireTotal -= this.#wire[this.#head]!;
        this.#live -= 1;
        if (this.#byKey !== null) {
          // The oldest queued item of its key: first in that key's list.
          const key = this.#keyOf(item);
          const list = this.#byKey.get(key)!;
          if (list.length === 1) this.#byKey.delete(key);
          else list.shift();
        }
      }
      this.#head += 1;
    }
    while (this.#head < this.#items.length && this.#items[this.#head] === undefined) this.#head += 1;
    if (this.#live === 0) this.#byKey = null;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#wire = this.#wire.slice(this.#head);
      this.#base += this.#head;
      this.#head = 0;
    }
    return taken;
  }
}
