import type { Logger } from "pino";

export interface CommittedBatch {
  readonly topic: string;
  readonly partition: number;
  /** Messages the commit covers (for metrics). */
  readonly count: number;
}

/** Sends one partition's offset to the group coordinator. */
type CommitOffset = (topic: string, partition: number, offset: bigint, leaderEpoch: number) => Promise<void>;

interface PendingCommit {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to commit (last handled + 1); null when nothing waits. */
  offset: bigint | null;
  leaderEpoch: number;
  count: number;
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
}

export interface CommitTrackerOptions {
  readonly logger: Logger;
  readonly commit: CommitOffset;
  /** How often a partition's handled batches are committed together in the background. */
  readonly intervalMs: number;
  readonly onCommitted: (batch: CommittedBatch) => void;
  /** Whether background commits are scheduled at all (false: the caller flushes each batch). */
  readonly background: () => boolean;
}

/**
 * Per partition, the offset waiting for a commit and the commit under way: commits follow the handler,
 * go out in order per partition, and a partition's handled batches share one commit per interval (each
 * commit is a write to __consumer_offsets). Entries of revoked partitions stay: one per partition at most.
 */
export class CommitTracker {
  private readonly pending = new Map<string, PendingCommit>();

  constructor(private readonly options: CommitTrackerOptions) {}

  /** Records a handled batch: `next` is the offset after its last record. */
  markHandled(topic: string, partition: number, next: bigint, leaderEpoch: number, count: number): string {
    const key = `${topic}:${partition}`;
    let p = this.pending.get(key);
    if (!p) this.pending.set(key, (p = { topic, partition, offset: null, leaderEpoch, count: 0, timer: null, running: null }));
    if (p.offset === null || next > p.offset) p.offset = next;
    p.leaderEpoch = leaderEpoch;
    p.count += count;
    return key;
  }

  /** Commits within the interval, unless a commit of the partition is under way (it schedules the next). */
  schedule(key: string): void {
    const p = this.pending.get(key);
    if (!p || p.running) return;
    p.timer ??= setTimeout(() => {
      p.timer = null;
      void this.flush(key, false);
    }, this.options.intervalMs);
  }

  /**
   * Commits a partition's pending offset now (after the commit under way, if any). `awaited`: a failure
   * throws to the caller; otherwise it is logged and the next commit supersedes it.
   */
  async flush(key: string, awaited: boolean): Promise<void> {
    const p = this.pending.get(key);
    if (!p) return;
    if (p.timer) {
      clearTimeout(p.timer);
      p.timer = null;
    }
    while (p.running) await p.running;
    if (p.offset === null) return;
    const { topic, partition, offset, leaderEpoch, count } = p;
    p.offset = null;
    p.count = 0;
    const commit = this.options.commit(topic, partition, offset, leaderEpoch).then(() => this.options.onCommitted({ topic, partition, count }));
    p.running = commit.then(
      () => undefined,
      () => undefined,
    );
    try {
      await commit;
    } catch (err) {
      if (awaited) throw err;
      this.options.logger.warn({ err, topic, partition }, "offset commit failed; the next one supersedes it");
    } finally {
      p.running = null;
      // Batches handled while this commit was under way wait for the next interval.
      if (p.offset !== null && this.options.background()) this.schedule(key);
    }
  }

  /** Commits everything pending (stop, restart); failures are logged. */
  async flushAll(): Promise<void> {
    await Promise.all([...this.pending.keys()].map((key) => this.flush(key, false)));
  }

  /** Forgets what was not committed (after a restart the stream starts again from the last commit). */
  reset(): void {
    for (const p of this.pending.values()) if (p.timer) clearTimeout(p.timer);
    this.pending.clear();
  }
}
