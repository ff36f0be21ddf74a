import DataLoader from "dataloader";
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
  running: Promise<void> | null;
}

export interface CommitTrackerOptions {
  readonly logger: Logger;
  readonly commit: CommitOffset;
  /** How often the partitions' handled batches are committed together in the background. */
  readonly intervalMs: number;
  readonly onCommitted: (batch: CommittedBatch) => void;
  /** Whether background commits are scheduled at all (false: the caller flushes each batch). */
  readonly background: () => boolean;
}

/**
 * Per partition, the offset waiting for a commit and the commit under way: commits follow the handler,
 * go out in order per partition, and the batches handled within an interval share one commit, every
 * partition's together (each commit is a request and a write to __consumer_offsets). Entries of revoked
 * partitions stay: one per partition at most.
 */
export class CommitTracker {
  private readonly pending = new Map<string, PendingCommit>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly options: CommitTrackerOptions) {}

  /** Records a handled batch: `next` is the offset after its last record. */
  markHandled(topic: string, partition: number, next: bigint, leaderEpoch: number, count: number): string {
    const key = `${topic}:${partition}`;
    let p = this.pending.get(key);
    if (!p) this.pending.set(key, (p = { topic, partition, offset: null, leaderEpoch, count: 0, running: null }));
    if (p.offset === null || next > p.offset) p.offset = next;
    p.leaderEpoch = leaderEpoch;
    p.count += count;
    return key;
  }

  /**
   * Commits within the interval, with every other partition waiting then, unless a commit of the
   * partition is under way (it schedules the next).
   */
  schedule(key: string): void {
    const p = this.pending.get(key);
    if (!p || p.running) return;
    this.timer ??= setTimeout(() => {
      this.timer = null;
      for (const [k, q] of this.pending) if (q.offset !== null && !q.running) void this.flush(k, false);
    }, this.options.intervalMs);
  }

  /**
   * Commits a partition's pending offset now (after the commit under way, if any). `awaited`: a failure
   * throws to the caller; otherwise it is logged and the next commit supersedes it.
   */
  async flush(key: string, awaited: boolean): Promise<void> {
    const p = this.pending.get(key);
    if (!p) return;
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
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await Promise.all([...this.pending.keys()].map((key) => this.flush(key, false)));
  }

  /** Forgets what was not committed (after a restart the stream starts again from the last commit). */
  reset(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending.clear();
  }
}

/** One partition's offset in a group commit. */
export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: bigint;
  readonly leaderEpoch: number;
}

/**
 * Commits asked for within one turn of the event loop go to the coordinator as one request: a
 * consumer's partitions finish their batches together (one fetch feeds them all), and each
 * OffsetCommit is a request and a write to __consumer_offsets on the broker. Every caller's
 * promise settles with the request that carried its offset.
 */
export function coalescedCommits(send: (offsets: PartitionOffset[]) => Promise<void>): CommitOffset {
  const loader = new DataLoader<PartitionOffset, void>(
    async (asked) => {
      const highest = new Map<string, PartitionOffset>();
      for (const o of asked) {
        const key = `${o.topic}:${o.partition}`;
        const before = highest.get(key);
        if (!before || o.offset > before.offset) highest.set(key, o);
      }
      await send([...highest.values()]);
      return asked.map(() => undefined);
    },
    { cache: false, batchScheduleFn: (dispatch) => setImmediate(dispatch) },
  );
  return (topic, partition, offset, leaderEpoch) => loader.load({ topic, partition, offset, leaderEpoch });
}
