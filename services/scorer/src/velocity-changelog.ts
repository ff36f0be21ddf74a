import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { VelocityChangelogV1, type VelocityChangelog } from "@spam/contracts";
import { decodeRecord, type Kafka, type OutgoingMessage } from "@spam/kafka";
import { canonicalSender, type EvaluateInput, type RuleSet, type VelocityState } from "@spam/rules";

/**
 * Per-sender velocity windows survive a rebalance or restart through a compacted changelog
 * (the Kafka Streams pattern, by hand): after each traffic batch the worker writes the
 * windows of every sender in it, before the batch's offsets are committed; every worker
 * mirrors the changelog, and a worker that takes a traffic partition loads the senders of
 * that partition before it scores the partition's first batch. Messages already reflected in
 * the restored windows (redelivered because the old owner could not commit) are scored
 * against the windows without being counted again.
 */

type Consumer = ReturnType<Kafka["consumer"]>;
type Admin = ReturnType<Kafka["admin"]>;

export type VelocityMode = NonNullable<EvaluateInput["velocity"]>;

/** The rule engine the scorer sees: the live rule set, with the velocity mode the worker picks per message. */
export class ModalRuleEngine {
  mode: VelocityMode = "record";
  constructor(public inner: RuleSet) {}
  get version(): string {
    return this.inner.version;
  }
  evaluate(input: EvaluateInput): ReturnType<RuleSet["evaluate"]> {
    return this.inner.evaluate(this.mode === "record" ? input : { ...input, velocity: this.mode });
  }
  isAllowListedSender(sender: string): boolean {
    return this.inner.isAllowListedSender(sender);
  }
}

interface StandbyEntry {
  readonly partition: number;
  readonly offset: bigint;
  readonly expiresAt: number;
  readonly windows: VelocityChangelog["windows"];
}

/** Latest changelog value per sender, for every traffic partition (a worker's mirror of the topic). */
export class VelocityStandby {
  private readonly entries = new Map<string, StandbyEntry>();

  get size(): number {
    return this.entries.size;
  }

  apply(sender: string, value: VelocityChangelog | null): void {
    if (value === null) this.entries.delete(sender);
    else this.entries.set(sender, { partition: value.partition, offset: BigInt(value.offset), expiresAt: value.expiresAt, windows: value.windows });
  }

  /** Loads one partition's senders into `velocity`; returns sender → last traffic offset counted. */
  restoreInto(velocity: VelocityState, partition: number, now: number): Map<string, bigint> {
    const upTo = new Map<string, bigint>();
    for (const [sender, e] of this.entries) {
      if (e.partition !== partition || e.expiresAt <= now) continue;
      velocity.importSender(sender, e.windows);
      upTo.set(sender, e.offset);
    }
    return upTo;
  }

  /** Forgets one partition's senders in `velocity` (the partition moved to another worker). */
  dropFrom(velocity: VelocityState, partition: number): number {
    let n = 0;
    for (const [sender, e] of this.entries) {
      if (e.partition !== partition) continue;
      velocity.importSender(sender, null);
      n++;
    }
    return n;
  }

  /** Removes entries whose events all left their windows; returns them (the owner tombstones its own). */
  prune(now: number): Array<{ sender: string; partition: number }> {
    const gone: Array<{ sender: string; partition: number }> = [];
    for (const [sender, e] of this.entries) {
      if (e.expiresAt > now) continue;
      this.entries.delete(sender);
      gone.push({ sender, partition: e.partition });
    }
    return gone;
  }
}

/** Changelog records for one traffic batch: one per sender with state, carrying its last offset. */
export function changelogRecords(
  velocity: VelocityState,
  topic: string,
  partition: number,
  messages: ReadonlyArray<{ readonly offset: string; readonly source: string }>,
): OutgoingMessage[] {
  const last = new Map<string, string>();
  for (const m of messages) {
    const sender = canonicalSender(m.source);
    if (sender !== "") last.set(sender, m.offset);
  }
  const out: OutgoingMessage[] = [];
  for (const [sender, offset] of last) {
    const windows = velocity.exportSender(sender);
    if (windows === null) continue; // allow-listed or evicted: nothing to carry over
    let expiresAt = 0;
    for (const [windowMs, flat] of windows) {
      const newest = flat[flat.length - 2];
      if (newest !== undefined) expiresAt = Math.max(expiresAt, Math.ceil(newest + windowMs));
    }
    const value: VelocityChangelog = { v: 1, sender, partition, offset, expiresAt, windows };
    out.push({ topic, key: sender, value });
  }
  return out;
}

export interface VelocityPartitionsOptions {
  readonly kafka: Kafka;
  readonly logger: Logger;
  readonly changelogTopic: string;
  /** Prefix of the mirror's consumer group (a fresh group per instance: each mirrors every partition). */
  readonly groupId: string;
  readonly engine: ModalRuleEngine;
  /** How long a new owner waits for the mirror to reach the changelog's end before scoring anyway. */
  readonly catchUpTimeoutMs?: number;
  readonly pruneIntervalMs?: number;
  readonly now?: () => number;
}

/** The worker's side: restore on first batch of a partition, pick the velocity mode, write after each batch. */
export class VelocityPartitions {
  readonly standby = new VelocityStandby();
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly logger: Logger;
  private readonly next = new Map<number, bigint>();
  private readonly owned = new Set<number>();
  private readonly restoring = new Map<number, Promise<void>>();
  /** Per owned partition: sender → last offset already counted in the restored windows. */
  private readonly restoredUpTo = new Map<number, Map<string, bigint>>();
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  /** Tombstones for expired senders of owned partitions, sent with the next batch. */
  private pendingTombstones: OutgoingMessage[] = [];
  /** Completed fetches of the mirror, and of those, the ones that brought records. */
  private fetches = 0;
  private progress = 0;

  constructor(private readonly options: VelocityPartitionsOptions) {
    this.logger = options.logger.child({ component: "velocity-changelog" });
    this.consumer = options.kafka.consumer({ groupId: `${options.groupId}-velocity-${randomUUID()}`, maxWaitTimeInMs: 50, allowAutoTopicCreation: false });
    this.admin = options.kafka.admin();
    this.now = options.now ?? Date.now;
  }

  private get velocity(): VelocityState {
    return this.options.engine.inner.velocity;
  }

  async start(): Promise<void> {
    await this.admin.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.options.changelogTopic, fromBeginning: true });
    this.consumer.on(this.consumer.events.FETCH, () => {
      this.fetches++;
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const key = m.key?.toString("utf8");
          if (key !== undefined) {
            if (m.value === null) this.standby.apply(key, null);
            else {
              const decoded = decodeRecord(VelocityChangelogV1, m.value);
              if (decoded.ok) this.standby.apply(key, decoded.value);
              else this.logger.warn({ key, offset: m.offset, error: decoded.error }, "skipping invalid changelog record");
            }
          }
          this.next.set(batch.partition, BigInt(m.offset) + 1n);
        }
        this.progress++;
      },
    });
    const every = this.options.pruneIntervalMs ?? 30_000;
    this.pruneTimer = setInterval(() => this.prune(), every);
    this.pruneTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.consumer.disconnect();
    await this.admin.disconnect();
  }

  setMode(mode: VelocityMode): void {
    this.options.engine.mode = mode;
  }

  /** The traffic consumer's assignment changed: forget partitions this worker no longer owns. */
  onAssignment(partitions: readonly number[]): void {
    const keep = new Set(partitions);
    for (const p of [...this.owned]) {
      if (keep.has(p)) continue;
      this.owned.delete(p);
      this.restoredUpTo.delete(p);
      const dropped = this.standby.dropFrom(this.velocity, p);
      this.logger.info({ partition: p, dropped }, "partition revoked: velocity state released");
    }
  }

  /** Before the first batch of a partition this worker did not own: load its senders. */
  async beforeBatch(partition: number): Promise<void> {
    if (this.owned.has(partition)) return;
    let pending = this.restoring.get(partition);
    if (pending === undefined) {
      pending = this.restore(partition).finally(() => this.restoring.delete(partition));
      this.restoring.set(partition, pending);
    }
    await pending;
  }

  /** "observe" for a message the restored windows already counted, else "record". */
  modeFor(partition: number, source: string, offset: string): "record" | "observe" {
    const upTo = this.restoredUpTo.get(partition);
    if (upTo === undefined || upTo.size === 0) return "record";
    const sender = canonicalSender(source);
    const last = upTo.get(sender);
    if (last === undefined) return "record";
    if (BigInt(offset) <= last) return "observe";
    upTo.delete(sender);
    return "record";
  }

  /** Records to send with the batch's verdicts (acknowledged before the batch is committed). */
  recordsFor(partition: number, messages: ReadonlyArray<{ readonly offset: string; readonly source: string }>): OutgoingMessage[] {
    const out = changelogRecords(this.velocity, this.options.changelogTopic, partition, messages);
    if (this.pendingTombstones.length > 0) {
      out.push(...this.pendingTombstones);
      this.pendingTombstones = [];
    }
    return out;
  }

  private prune(): void {
    for (const { sender, partition } of this.standby.prune(this.now())) {
      if (this.owned.has(partition)) this.pendingTombstones.push({ topic: this.options.changelogTopic, key: sender, value: null });
    }
  }

  private async restore(partition: number): Promise<void> {
    const t0 = this.now();
    await this.caughtUp();
    const upTo = this.standby.restoreInto(this.velocity, partition, this.now());
    this.restoredUpTo.set(partition, upTo);
    this.owned.add(partition);
    this.logger.info({ partition, senders: upTo.size, ms: this.now() - t0 }, "velocity state restored for partition");
  }

  /** Waits until the mirror has read every changelog partition up to its current end. */
  private async caughtUp(): Promise<void> {
    const timeoutMs = this.options.catchUpTimeoutMs ?? 30_000;
    const ends = await this.admin.fetchTopicOffsets(this.options.changelogTopic);
    const deadline = Date.now() + timeoutMs;
    let seen = { fetches: this.fetches, progress: this.progress };
    for (;;) {
      const behind = ends.filter((e) => BigInt(e.high) > (this.next.get(e.partition) ?? 0n));
      if (behind.length === 0) return;
      // Compaction may have removed a partition's last records (old tombstones): then the mirror
      // never sees the high-watermark's offset. Several fetches without records mean it read all there is.
      if (this.progress !== seen.progress) seen = { fetches: this.fetches, progress: this.progress };
      else if (this.fetches - seen.fetches >= 3 && this.next.size > 0) return;
      if (Date.now() > deadline) {
        // Bounded degradation: score with what is there rather than stall the partition.
        this.logger.warn({ behind: behind.map((e) => e.partition) }, "velocity changelog not caught up; scoring with partial state");
        return;
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
