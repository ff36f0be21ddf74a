export interface PendingReportsOptions {
  /** How long a content-only report waits for the number (GSMA 7726 two-step). */
  readonly windowMs: number;
  /** Most reporters with an open report; beyond it the oldest is forgotten (its report stays stored as pending_number). */
  readonly maxEntries: number;
  readonly now?: () => number;
}

export interface PendingEntry<T> {
  readonly data: T;
  readonly openedAt: number;
}

/**
 * Content-only reports waiting for their number, keyed by reporter.
 * In memory and bounded; a forgotten entry loses only the chance to complete,
 * never the report, which was stored when it was opened.
 */
export class PendingReports<T> {
  private readonly entries = new Map<string, PendingEntry<T>>();
  private readonly now: () => number;

  constructor(private readonly opts: PendingReportsOptions) {
    if (!(opts.windowMs > 0) || !(opts.maxEntries >= 1)) throw new RangeError("PendingReports needs windowMs > 0 and maxEntries ≥ 1");
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Opens (or replaces) the reporter's pending report. */
  open(reporter: string, data: T): void {
    const now = this.now();
    this.sweep(now);
    this.entries.delete(reporter); // re-insert so Map order stays opening order
    this.entries.set(reporter, { data, openedAt: now });
    while (this.entries.size > this.opts.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }

  /** Removes and returns the reporter's pending report if it is still within the window. */
  take(reporter: string): PendingEntry<T> | undefined {
    const e = this.entries.get(reporter);
    if (!e) return undefined;
    this.entries.delete(reporter);
    return this.now() - e.openedAt <= this.opts.windowMs ? e : undefined;
  }

  peek(reporter: string): PendingEntry<T> | undefined {
    const e = this.entries.get(reporter);
    return e && this.now() - e.openedAt <= this.opts.windowMs ? e : undefined;
  }

  /** Forgets entries past the window (oldest first; Map order is opening order). */
  sweep(now = this.now()): number {
    let n = 0;
    for (const [k, e] of this.entries) {
      if (now - e.openedAt <= this.opts.windowMs) break;
      this.entries.delete(k);
      n++;
    }
    return n;
  }
}
