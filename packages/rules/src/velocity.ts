import { z } from "zod";

/**
 * Sliding windows per sender with bounded memory: at most `maxSenders` senders per
 * window length (least recently seen evicted first) and at most `maxEventsPerSender`
 * events each (oldest dropped; counts then stay at the cap, which is above any sane threshold).
 * Windows are keyed by length, so rule reloads that keep a window keep its state.
 *
 * Layout (the hot path allocates nothing per event): one table per window length holds a
 * sender → slot map, an intrusive LRU list in Int32Arrays, and per slot a ring of
 * (timestamp, recipient hash) pairs in one Float64Array that grows by doubling up to the
 * event cap. Recipients are kept as 53-bit hashes; a hash is stored as h ≥ 0 while it is the
 * latest occurrence of that recipient in the window and as -(h+1) once a later event repeats
 * it, so the distinct count is maintained exactly in O(1) on expiry and with one backwards
 * scan over live entries on insert.
 */
export interface VelocityOptions {
  maxSenders?: number;
  maxEventsPerSender?: number;
}

export interface WindowCounts {
  messages: number;
  distinctRecipients: number;
}

const INITIAL_EVENTS = 4;
const INITIAL_SLOTS = 64;

/** cyrb53: a fast 53-bit string hash (collisions among recipients in one window are ~1e-12 likely). */
export function recipientHash(s: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < s.length; i++) {
    const ch = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

const EMPTY = new Float64Array(0);

/** All senders' windows of one length. Exported for the rule set's hot path only. */
export class WindowTable {
  readonly windowMs: number;
  private readonly maxSenders: number;
  private readonly maxEvents: number;
  private readonly index = new Map<string, number>();
  private senders: string[] = [];
  private rings: Float64Array[] = [];
  private start = new Int32Array(INITIAL_SLOTS);
  private len = new Int32Array(INITIAL_SLOTS);
  private distinct = new Int32Array(INITIAL_SLOTS);
  private prev = new Int32Array(INITIAL_SLOTS);
  private next = new Int32Array(INITIAL_SLOTS);
  /** Least and most recently seen slots (-1 when empty). */
  private lru = -1;
  private mru = -1;
  private readonly free: number[] = [];
  /** Distinct recipients after the last `record` (returned beside the message count to avoid an object). */
  lastDistinct = 0;

  constructor(windowMs: number, maxSenders: number, maxEvents: number) {
    this.windowMs = windowMs;
    this.maxSenders = maxSenders;
    this.maxEvents = maxEvents;
  }

  get size(): number {
    return this.index.size;
  }

  /** Records one event and returns the messages in the window (distinct recipients in `lastDistinct`). */
  record(sender: string, hash: number, at: number): number {
    let slot = this.index.get(sender);
    if (slot === undefined) slot = this.allocate(sender);
    else this.touch(slot);
    this.add(slot, hash, at);
    this.lastDistinct = this.distinct[slot]!;
    return this.len[slot]!;
  }

  /**
   * Counts in the window at `at` without recording anything (for a message already counted,
   * e.g. redelivered after a restore); distinct recipients in `lastDistinct`.
   */
  peek(sender: string, at: number): number {
    const slot = this.index.get(sender);
    this.lastDistinct = 0;
    if (slot === undefined) return 0;
    const ring = this.rings[slot]!;
    const cap = ring.length >> 1;
    const cutoff = at - this.windowMs;
    let i = this.start[slot]!;
    let len = this.len[slot]!;
    let distinct = this.distinct[slot]!;
    while (len > 0 && ring[2 * i]! <= cutoff) {
      if (ring[2 * i + 1]! >= 0) distinct--;
      if (++i === cap) i = 0;
      len--;
    }
    this.lastDistinct = distinct;
    return len;
  }

  clear(): void {
    this.index.clear();
    this.senders = [];
    this.rings = [];
    this.free.length = 0;
    this.lru = -1;
    this.mru = -1;
  }

  /** Live (timestamp, hash) pairs of one sender, oldest first, flattened; empty when unknown. */
  eventsOf(sender: string): number[] {
    const slot = this.index.get(sender);
    return slot === undefined ? [] : this.flatten(slot);
  }

  /** Senders least recently seen first, with their flattened events (skips empty windows). */
  *entries(): IterableIterator<[string, number[]]> {
    for (let s = this.lru; s !== -1; s = this.next[s]!) {
      if (this.len[s]! > 0) yield [this.senders[s]!, this.flatten(s)];
    }
  }

  /** Replaces one sender's events (flattened pairs, oldest first); empty removes the sender. */
  replace(sender: string, flat: readonly number[]): void {
    this.remove(sender);
    if (flat.length < 2) return;
    const slot = this.allocate(sender);
    const n = Math.floor(flat.length / 2);
    for (let i = Math.max(0, n - this.maxEvents); i < n; i++) this.add(slot, Math.abs(flat[2 * i + 1]!), flat[2 * i]!);
  }

  remove(sender: string): void {
    const slot = this.index.get(sender);
    if (slot === undefined) return;
    this.index.delete(sender);
    this.unlink(slot);
    this.senders[slot] = "";
    this.len[slot] = 0;
    this.rings[slot] = EMPTY; // a removed (often restored-then-moved) sender gives its memory back
    this.free.push(slot);
  }

  private flatten(slot: number): number[] {
    const ring = this.rings[slot]!;
    const cap = ring.length >> 1;
    const out: number[] = [];
    let i = this.start[slot]!;
    for (let k = this.len[slot]!; k > 0; k--) {
      const h = ring[2 * i + 1]!;
      out.push(ring[2 * i]!, h >= 0 ? h : -h - 1);
      if (++i === cap) i = 0;
    }
    return out;
  }

  private allocate(sender: string): number {
    let slot: number;
    if (this.index.size >= this.maxSenders) {
      slot = this.lru;
      this.index.delete(this.senders[slot]!);
      this.unlink(slot);
    } else if (this.free.length > 0) {
      slot = this.free.pop()!;
    } else {
      slot = this.senders.length;
      if (slot >= this.start.length) this.grow();
      this.rings.push(EMPTY);
      this.senders.push("");
    }
    this.senders[slot] = sender;
    this.index.set(sender, slot);
    this.start[slot] = 0;
    this.len[slot] = 0;
    this.distinct[slot] = 0;
    this.linkMru(slot);
    return slot;
  }

  private grow(): void {
    const n = Math.min(this.start.length * 2, Math.max(this.maxSenders, INITIAL_SLOTS));
    const g = (a: Int32Array): Int32Array => {
      const b = new Int32Array(n);
      b.set(a);
      return b;
    };
    this.start = g(this.start);
    this.len = g(this.len);
    this.distinct = g(this.distinct);
    this.prev = g(this.prev);
    this.next = g(this.next);
  }

  private touch(slot: number): void {
    if (slot === this.mru) return;
    this.unlink(slot);
    this.linkMru(slot);
  }

  private unlink(slot: number): void {
    const p = this.prev[slot]!;
    const n = this.next[slot]!;
    if (p === -1) this.lru = n;
    else this.next[p] = n;
    if (n === -1) this.mru = p;
    else this.prev[n] = p;
  }

  private linkMru(slot: number): void {
    this.prev[slot] = this.mru;
    this.next[slot] = -1;
    if (this.mru === -1) this.lru = slot;
    else this.next[this.mru] = slot;
    this.mru = slot;
  }

  private add(slot: number, hash: number, at: number): void {
    let ring = this.rings[slot]!;
    let cap = ring.length >> 1;
    let start = this.start[slot]!;
    let len = this.len[slot]!;
    let distinct = this.distinct[slot]!;
    // Drop what left the window (events arrive in time order per sender: its partition's order).
    const cutoff = at - this.windowMs;
    while (len > 0 && ring[2 * start]! <= cutoff) {
      if (ring[2 * start + 1]! >= 0) distinct--;
      if (++start === cap) start = 0;
      len--;
    }
    if (len === cap) {
      if (cap < this.maxEvents) {
        const ncap = Math.min(Math.max(cap * 2, INITIAL_EVENTS), this.maxEvents);
        const bigger = new Float64Array(ncap * 2);
        for (let k = 0, i = start; k < len; k++) {
          bigger[2 * k] = ring[2 * i]!;
          bigger[2 * k + 1] = ring[2 * i + 1]!;
          if (++i === cap) i = 0;
        }
        ring = bigger;
        cap = ncap;
        start = 0;
        this.rings[slot] = ring;
      } else {
        if (ring[2 * start + 1]! >= 0) distinct--;
        if (++start === cap) start = 0;
        len--;
      }
    }
    // Is this recipient already in the window? Only its latest occurrence is stored non-negative.
    let found = false;
    let i = start + len - 1;
    if (i >= cap) i -= cap;
    for (let k = len; k > 0; k--) {
      if (ring[2 * i + 1] === hash) {
        ring[2 * i + 1] = -hash - 1;
        found = true;
        break;
      }
      if (--i < 0) i = cap - 1;
    }
    if (!found) distinct++;
    let tail = start + len;
    if (tail >= cap) tail -= cap;
    ring[2 * tail] = at;
    ring[2 * tail + 1] = hash;
    this.start[slot] = start;
    this.len[slot] = len + 1;
    this.distinct[slot] = distinct;
  }
}

const flatEvents = z.array(z.number()).refine((a) => a.length % 2 === 0, "flattened (timestamp, recipientHash) pairs");

/** v1: recipients as strings (older workers); v2: recipients as 53-bit hashes, flattened pairs. */
const VelocitySnapshotV1 = z.union([
  z.object({
    v: z.literal(1),
    windows: z.array(
      z.object({
        windowMs: z.number().int().positive(),
        senders: z.array(z.tuple([z.string(), z.array(z.tuple([z.number(), z.string()]))])),
      }),
    ),
  }),
  z.object({
    v: z.literal(2),
    windows: z.array(
      z.object({
        windowMs: z.number().int().positive(),
        /** Least recently seen first. */
        senders: z.array(z.tuple([z.string(), flatEvents])),
      }),
    ),
  }),
]);
export type VelocitySnapshot = z.infer<typeof VelocitySnapshotV1>;

/** One sender's events in every window (what a scorer's velocity snapshot carries per sender). */
const SenderVelocityV1 = z.array(z.tuple([z.number().int().positive(), flatEvents]));
export type SenderVelocity = z.infer<typeof SenderVelocityV1>;

export class VelocityState {
  readonly maxSenders: number;
  readonly maxEventsPerSender: number;
  private readonly windows = new Map<number, WindowTable>();

  constructor(opts: VelocityOptions = {}) {
    this.maxSenders = opts.maxSenders ?? 100_000;
    this.maxEventsPerSender = opts.maxEventsPerSender ?? 2_000;
  }

  /** The table for one window length; stable for the life of this state (imports refill it). */
  table(windowMs: number): WindowTable {
    let t = this.windows.get(windowMs);
    if (t === undefined) {
      t = new WindowTable(windowMs, this.maxSenders, this.maxEventsPerSender);
      this.windows.set(windowMs, t);
    }
    return t;
  }

  /** Records one message in the window of length `windowMs` and returns the counts including it. */
  record(windowMs: number, sender: string, recipient: string, at: number): WindowCounts {
    const t = this.table(windowMs);
    const messages = t.record(sender, recipientHash(recipient), at);
    return { messages, distinctRecipients: t.lastDistinct };
  }

  /** Number of senders tracked, over all windows. */
  trackedSenders(): number {
    let n = 0;
    for (const t of this.windows.values()) n += t.size;
    return n;
  }

  export(): VelocitySnapshot {
    const windows: Array<{ windowMs: number; senders: Array<[string, number[]]> }> = [];
    for (const [windowMs, t] of this.windows) windows.push({ windowMs, senders: [...t.entries()] });
    return { v: 2, windows };
  }

  /** Replaces the state with a snapshot (validated; throws on a malformed one). */
  import(snapshot: unknown): void {
    const snap = VelocitySnapshotV1.parse(snapshot);
    for (const t of this.windows.values()) t.clear();
    for (const w of snap.windows) {
      const t = this.table(w.windowMs);
      if (snap.v === 1) {
        for (const [sender, events] of w.senders as Array<[string, Array<[number, string]>]>) {
          t.replace(sender, events.flatMap(([at, r]) => [at, recipientHash(r)]));
        }
      } else {
        for (const [sender, flat] of w.senders as Array<[string, number[]]>) t.replace(sender, flat);
      }
    }
  }

  /** One sender's state over all windows, or null when it has none. */
  exportSender(sender: string): SenderVelocity | null {
    const out: SenderVelocity = [];
    for (const [windowMs, t] of this.windows) {
      const ev = t.eventsOf(sender);
      if (ev.length > 0) out.push([windowMs, ev]);
    }
    return out.length > 0 ? out : null;
  }

  /** Replaces one sender's state (validated); null forgets the sender. */
  importSender(sender: string, state: unknown): void {
    const parsed = state === null ? [] : SenderVelocityV1.parse(state);
    for (const t of this.windows.values()) t.remove(sender);
    for (const [windowMs, flat] of parsed) this.table(windowMs).replace(sender, flat);
  }
}
