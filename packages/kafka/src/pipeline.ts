import type { Logger } from "pino";

/** A batch handed to the handler while earlier ones of its partition may still be settling. */
export interface InFlightBatch {
  readonly firstOffset: bigint;
  /** The offset after its last record. */
  readonly next: bigint;
  readonly leaderEpoch: number;
  readonly count: number;
  settled: boolean;
}

export interface PipelineCallbacks {
  /** A batch and every batch before it settled: commit up to `batch.next`. */
  readonly onSettled: (batch: InFlightBatch) => void;
  /** A batch failed: the partition must be handled again from `from` (the earliest batch not settled). */
  readonly onFailed: (err: unknown, batch: InFlightBatch, from: bigint) => void;
}

/**
 * One partition's batches in the handler at once (`maxBatchesInFlight` > 1). Handlers start in offset
 * order; a batch counts as done once it and every batch before it resolved. When one rejects, the
 * batches handed over before no longer count (the generation moves on) and nothing after the failure
 * is committed until the partition was handled again from the earliest batch not settled.
 */
export class PartitionPipeline {
  private queue: InFlightBatch[] = [];
  readonly handlers = new Set<Promise<void>>();
  /** Bumped when a batch fails: the batches handed over before no longer count. */
  private generation = 0;
  /** A batch failed and the partition was not fetched again from before it yet. */
  failed = false;

  constructor(
    private readonly logger: Logger,
    private readonly callbacks: PipelineCallbacks,
  ) {}

  /** Tracks a batch whose handler is running; returns once fewer than `maxInFlight` are. */
  async handOver(handled: Promise<void>, entry: InFlightBatch, maxInFlight: number, where: { topic: string; partition: number }): Promise<void> {
    const generation = this.generation;
    this.queue.push(entry);
    const tracked: Promise<void> = handled.then(
      () => {
        if (this.generation !== generation) return;
        entry.settled = true;
        while (this.queue[0]?.settled) this.callbacks.onSettled(this.queue.shift()!);
      },
      (err: unknown) => {
        if (this.generation !== generation) return;
        // Back to the earliest batch not yet settled, which may be before this one: once the generation
        // moves on, an earlier batch still in the handler no longer counts, so its failure would go
        // unnoticed and later commits would pass it.
        const from = this.queue[0]?.firstOffset ?? entry.firstOffset;
        this.generation++;
        this.failed = true;
        this.queue = [];
        this.logger.error({ err, ...where, offset: String(entry.firstOffset), from: String(from) }, "batch handler failed: handling the partition again from the first unsettled batch");
        this.callbacks.onFailed(err, entry, from);
      },
    );
    this.handlers.add(tracked);
    void tracked.finally(() => this.handlers.delete(tracked));
    while (this.handlers.size >= maxInFlight) await Promise.race(this.handlers);
  }

  /** Waits for every handler under way; true when none failed meanwhile. */
  async settle(): Promise<boolean> {
    const generation = this.generation;
    await Promise.allSettled([...this.handlers]);
    return this.generation === generation && !this.failed;
  }
}
