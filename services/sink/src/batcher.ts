import type { Logger } from "pino";

/** Where a row came from, so a row ClickHouse rejects can be dead-lettered with its record. */
interface RowOrigin {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: unknown;
}

export interface SinkRow {
  readonly row: Record<string, unknown>;
  readonly origin: RowOrigin;
}

export type InsertFn = (table: string, rows: readonly Record<string, unknown>[]) => Promise<void>;

/** ClickHouse answered that the data is bad (parse/type errors): retrying the same rows cannot help. */
export type InsertFailure = "rejected" | "transient";

export interface FlushInfo {
  readonly table: string;
  readonly rows: number;
  readonly attempts: number;
  readonly ms: number;
  readonly rejected: number;
}

export interface TableBatcherOptions {
  readonly table: string;
  readonly insert: InsertFn;
  readonly logger: Logger;
  /** An insert goes out at once when this many rows are buffered. */
  readonly maxRows: number;
  /**
   * How long the first buffered row waits for the other partitions' batches of
   * the same fetch. Waiting longer gains nothing: the consumer hands over a partition's
   * next batch only after this one was handled, i.e. after this insert. Insert
   * size at load is set by the fetch size (min bytes / max wait), not here.
   */
  readonly lingerMs: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /** Classifies an insert error; defaults to `classifyInsertError`. */
  readonly classify?: (error: unknown) => InsertFailure;
  /** Rows ClickHouse refused one by one, with its error: the caller dead-letters them. */
  readonly onRejected: (rows: readonly SinkRow[], error: string) => Promise<void>;
  /** true while inserts fail (ClickHouse down): the caller pauses consumption. */
  readonly onUnhealthy?: (unhealthy: boolean) => void;
  readonly onFlush?: (info: FlushInfo) => void;
}

interface Waiter {
  readonly rows: readonly SinkRow[];
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

// Codes of ClickHouse errors caused by the data itself (parse, type, range), as in 18.16 and current.
const DATA_ERROR_CODES = new Set([6, 16, 25, 26, 27, 32, 33, 38, 41, 53, 69, 70, 72, 117, 131, 349]);

/** "rejected" when ClickHouse refused the rows' content; anything else (network, overload) is retried. */
export function classifyInsertError(error: unknown): InsertFailure {
  const texts: string[] = [];
  for (let e: unknown = error, depth = 0; e instanceof Error && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    texts.push(e.message);
  }
  for (const text of texts) {
    const match = /Code: (\d+)/.exec(text);
    if (match && DATA_ERROR_CODES.has(Number(match[1]))) return "rejected";
  }
  return "transient";
}

class BatcherStoppedError extends Error {
  override readonly name = "BatcherStoppedError";
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Accumulates rows for one table from many partition batches (of several
 * topics' consumers) and inserts them together, bounded in rows and in time. `add` resolves only once its rows are
 * in ClickHouse (or were dead-lettered as rejected), so the consumer commits
 * offsets after the insert. One insert is in flight at a time; while
 * ClickHouse is down the insert is retried with backoff and the consumer is
 * told to pause, so memory stays bounded by what was already fetched.
 */
export class TableBatcher {
  private buffer: Waiter[] = [];
  private bufferedRows = 0;
  private firstAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private stopped = false;
  private unhealthy = false;
  private readonly classify: (error: unknown) => InsertFailure;

  constructor(private readonly options: TableBatcherOptions) {
    this.classify = options.classify ?? classifyInsertError;
  }

  /** Rows buffered or being inserted. */
  get pendingRows(): number {
    return this.bufferedRows + this.inFlightRows;
  }
  private inFlightRows = 0;

  add(rows: readonly SinkRow[]): Promise<void> {
    if (this.stopped) return Promise.reject(new BatcherStoppedError(`batcher for ${this.options.table} is stopped`));
    if (rows.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      if (this.buffer.length === 0) this.firstAt = Date.now();
      this.buffer.push({ rows, resolve, reject });
      this.bufferedRows += rows.length;
      this.schedule();
    });
  }

  /** Inserts what is buffered now (used on shutdown) and waits for it. */
  async drain(): Promise<void> {
    while (this.buffer.length > 0 || this.flushing) {
      if (!this.flushing) this.startFlush();
      await this.flushing;
    }
  }

  /** Stops retrying: waiting callers fail (their offsets stay uncommitted and are refetched). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const waiting = this.buffer;
    this.buffer = [];
    this.bufferedRows = 0;
    for (const w of waiting) w.reject(new BatcherStoppedError(`batcher for ${this.options.table} stopped`));
  }

  private schedule(): void {
    if (this.flushing) return; // the flush loop picks the buffer up when the insert in flight is done
    const age = Date.now() - this.firstAt;
    if (this.bufferedRows >= this.options.maxRows || age >= this.options.lingerMs) {
      this.startFlush();
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.schedule();
    }, Math.max(1, this.options.lingerMs - age));
  }

  private startFlush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const take = this.buffer;
    if (take.length === 0) return;
    this.buffer = [];
    this.inFlightRows = this.bufferedRows;
    this.bufferedRows = 0;
    this.flushing = this.flush(take).finally(() => {
      this.flushing = null;
      this.inFlightRows = 0;
      if (this.buffer.length > 0 && !this.stopped) {
        this.firstAt = Math.min(this.firstAt, Date.now());
        this.schedule();
      }
    });
  }

  private async flush(waiters: Waiter[]): Promise<void> {
    const rows = waiters.flatMap((w) => w.rows);
    const t0 = Date.now();
    let attempts = 0;
    let rejected = 0;
    try {
      const result = await this.insertWithRetry(rows, () => attempts++);
      rejected = result;
    } catch (error) {
      for (const w of waiters) w.reject(error as Error);
      return;
    }
    for (const w of waiters) w.resolve();
    this.options.onFlush?.({ table: this.options.table, rows: rows.length, attempts, ms: Date.now() - t0, rejected });
  }

  /** Inserts with backoff on transient errors; bisects on rejected data. Returns the number of rejected rows. */
  private async insertWithRetry(rows: readonly SinkRow[], countAttempt: () => void): Promise<number> {
    let delay = this.options.retryInitialMs;
    for (;;) {
      if (this.stopped) throw new BatcherStoppedError(`batcher for ${this.options.table} stopped while retrying`);
      countAttempt();
      try {
        await this.options.insert(this.options.table, rows.map((r) => r.row));
        this.setUnhealthy(false);
        return 0;
      } catch (error) {
        if (this.classify(error) === "rejected") {
          this.setUnhealthy(false);
          return this.bisect(rows, error);
        }
        this.setUnhealthy(true);
        this.options.logger.warn({ table: this.options.table, rows: rows.length, retryInMs: delay, err: (error as Error).message }, "insert failed; retrying");
        await sleep(delay);
        delay = Math.min(this.options.retryMaxMs, delay * 2);
      }
    }
  }

  private async bisect(rows: readonly SinkRow[], error: unknown): Promise<number> {
    if (rows.length === 1) {
      const message = (error as Error).message.slice(0, 3_500);
      this.options.logger.warn({ table: this.options.table, origin: { ...rows[0]!.origin, value: undefined }, err: message }, "ClickHouse rejected a row");
      await this.options.onRejected(rows, `ClickHouse rejected the row for table ${this.options.table}: ${message}`);
      return 1;
    }
    const mid = Math.ceil(rows.length / 2);
    let rejected = 0;
    for (const half of [rows.slice(0, mid), rows.slice(mid)]) {
      rejected += await this.insertWithRetry(half, () => undefined);
    }
    return rejected;
  }

  private setUnhealthy(value: boolean): void {
    if (this.unhealthy === value) return;
    this.unhealthy = value;
    this.options.onUnhealthy?.(value);
  }
}
