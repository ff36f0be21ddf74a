import { z } from "zod";

/**
 * Sliding windows per sender with bounded memory: at most `maxSenders` senders per
 * window length (least recently seen evicted first) and at most `maxEventsPerSender`
 * events each (oldest dropped; counts then stay at the cap, which is above any sane threshold).
 * Windows are keyed by length, so rule reloads that keep a window keep its state.
 */
export interface VelocityOptions {
  maxSenders?: number;
  maxEventsPerSender?: number;
}

export interface WindowCounts {
  messages: number;
  distinctRecipients: number;
}

class SenderWindow {
  times: number[] = [];
  recipients: string[] = [];
  head = 0;
  counts = new Map<string, number>();

  add(at: number, recipient: string, windowMs: number, maxEvents: number): void {
    this.expire(at, windowMs);
    if (this.times.length - this.head >= maxEvents) this.dropOldest();
    this.times.push(at);
    this.recipients.push(recipient);
    this.counts.set(recipient, (this.counts.get(recipient) ?? 0) + 1);
    // Compact the arrays once the consumed prefix dominates.
    if (this.head > 64 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.recipients = this.recipients.slice(this.head);
      this.head = 0;
    }
  }

  expire(at: number, windowMs: number): void {
    const cutoff = at - windowMs;
    while (this.head < this.times.length && this.times[this.head]! <= cutoff) this.dropOldest();
  }

  private dropOldest(): void {
    const r = this.recipients[this.head]!;
    const c = (this.counts.get(r) ?? 1) - 1;
    if (c <= 0) this.counts.delete(r);
    else this.counts.set(r, c);
    this.head++;
  }

  get size(): number {
    return this.times.length - this.head;
  }
}

export const VelocitySnapshotV1 = z.object({
  v: z.literal(1),
  windows: z.array(
    z.object({
      windowMs: z.number().int().positive(),
      senders: z.array(z.tuple([z.string(), z.array(z.tuple([z.number(), z.string()]))])),
    }),
  ),
});
export type VelocitySnapshot = z.infer<typeof VelocitySnapshotV1>;

export class VelocityState {
  readonly maxSenders: number;
  readonly maxEventsPerSender: number;
  private readonly windows = new Map<number, Map<string, SenderWindow>>();

  constructor(opts: VelocityOptions = {}) {
    this.maxSenders = opts.maxSenders ?? 100_000;
    this.maxEventsPerSender = opts.maxEventsPerSender ?? 2_000;
  }

  /** Records one message in the window of length `windowMs` and returns the counts including it. */
  record(windowMs: number, sender: string, recipient: string, at: number): WindowCounts {
    let senders = this.windows.get(windowMs);
    if (senders === undefined) {
      senders = new Map();
      this.windows.set(windowMs, senders);
    }
    let w = senders.get(sender);
    if (w === undefined) {
      w = new SenderWindow();
      if (senders.size >= this.maxSenders) {
        // Map iteration order is insertion order: the first key is the least recently seen.
        const lru = senders.keys().next();
        if (lru.done !== true) senders.delete(lru.value);
      }
    } else {
      senders.delete(sender); // re-insert below to mark as most recently seen
    }
    senders.set(sender, w);
    w.add(at, recipient, windowMs, this.maxEventsPerSender);
    return { messages: w.size, distinctRecipients: w.counts.size };
  }

  /** Number of senders tracked, over all windows. */
  trackedSenders(): number {
    let n = 0;
    for (const s of this.windows.values()) n += s.size;
    return n;
  }

  export(): VelocitySnapshot {
    const windows: VelocitySnapshot["windows"] = [];
    for (const [windowMs, senders] of this.windows) {
      const list: Array<[string, Array<[number, string]>]> = [];
      for (const [sender, w] of senders) {
        const ev: Array<[number, string]> = [];
        for (let i = w.head; i < w.times.length; i++) ev.push([w.times[i]!, w.recipients[i]!]);
        if (ev.length > 0) list.push([sender, ev]);
      }
      windows.push({ windowMs, senders: list });
    }
    return { v: 1, windows };
  }

  /** Replaces the state with a snapshot (validated; throws on a malformed one). */
  import(snapshot: unknown): void {
    const snap = VelocitySnapshotV1.parse(snapshot);
    this.windows.clear();
    for (const { windowMs, senders } of snap.windows) {
      const map = new Map<string, SenderWindow>();
      this.windows.set(windowMs, map);
      for (const [sender, events] of senders.slice(-this.maxSenders)) {
        const w = new SenderWindow();
        for (const [at, recipient] of events.slice(-this.maxEventsPerSender)) w.add(at, recipient, Number.MAX_SAFE_INTEGER, this.maxEventsPerSender);
        map.set(sender, w);
      }
    }
  }
}
