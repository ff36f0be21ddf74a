import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { VelocityChangelogV1, type VelocityChangelog } from "@spam/contracts";
import { decodeRecord, type Kafka, type OutgoingMessage } from "@spam/kafka";
import { canonicalSender, type EvaluateInput, type RuleSet, type VelocityState } from "@spam/rules";

/**
 * Per-sender velocity windows survive a rebalance or restart through a compacted changelog
 * (the Kafka Streams pattern, by hand): after each traffic batch the worker writes the
 * windows of every sender in it to the changelog partition with the traffic partition's
 * number, before the batch's offsets are committed. A worker that takes a traffic partition
 * reads that one changelog partition from its start before it scores the partition's first
 * batch (a bounded warm-up: one record per live sender of the partition). Messages already
 * reflected in the restored windows (redelivered because the old owner could not commit) are
 * scored against the windows without being counted again. No worker mirrors the whole
 * changelog, so each worker's changelog cost stays with its own partitions as the group grows.
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
    if (sender === "") continue;
    last.delete(sender); // records in the order of each sender's last message
    last.set(sender, m.offset);
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
    out.push({ topic, partition, key: sender, value });
  }
  return out;
}

/** One changelog record as read back: `null` value = tombstone. */
export interface ChangelogEntry {
  readonly key: string;
  readonly value: Buffer | null;
  readonly offset: string;
}

/** Reads one changelog partition from its first record to its end at the time of the call. */
export interface ChangelogReader {
  start(): Promise<void>;
  readPartition(partition: number, onRecords: (records: readonly ChangelogEntry[]) => void): Promise<void>;
  stop(): Promise<void>;
}

export interface VelocityPartitionsOptions {
  readonly logger: Logger;
  readonly changelogTopic: string;
  readonly engine: ModalRuleEngine;
  readonly reader: ChangelogReader;
  /**
   * How often expired senders are tombstoned. Often, so each round is small: a sender's entry
   * is renewed on every message, entries are kept in renewal order and a round stops at the
   * first live one. (Every 30 s, one round at 5,000 new senders/s queued 150,000 tombstones
   * for one batch, a send that stalled the worker for a second.)
   */
  readonly pruneIntervalMs?: number;
  /**
   * Senders tracked per partition at most (default: the velocity state's own `maxSenders`,
   * which evicts the least recently seen first). Past it, the least recently renewed are
   * tombstoned at once: their windows left the velocity state already.
   */
  readonly maxTrackedSenders?: number;
  readonly now?: () => number;
}

/** The worker's side: restore on first batch of a partition, pick the velocity mode, write after each batch. */
export class VelocityPartitions {
  private readonly logger: Logger;
  private readonly owned = new Set<number>();
  private readonly restoring = new Map<number, Promise<void>>();
  /**
   * Per owned partition: sender → when its windows empty (epoch ms), for release and tombstones,
   * in the order the entries were last renewed (deleted and set again on each record).
   */
  private readonly senders = new Map<number, Map<string, number>>();
  /** Per owned partition: sender → last offset already counted in the restored windows. */
  private readonly restoredUpTo = new Map<number, Map<string, bigint>>();
  private pruneTimer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  /** Tombstones for expired senders of owned partitions, sent with the next batch. */
  private pendingTombstones: OutgoingMessage[] = [];

  constructor(private readonly options: VelocityPartitionsOptions) {
    this.logger = options.logger.child({ component: "velocity-changelog" });
    this.now = options.now ?? Date.now;
  }

  private get velocity(): VelocityState {
    return this.options.engine.inner.velocity;
  }

  /** Senders this worker holds windows for (owned partitions only). */
  get trackedSenders(): number {
    let n = 0;
    for (const m of this.senders.values()) n += m.size;
    return n;
  }

  async start(): Promise<void> {
    await this.options.reader.start();
    const every = this.options.pruneIntervalMs ?? 1_000;
    this.pruneTimer = setInterval(() => this.prune(), every);
    this.pruneTimer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.pruneTimer);
    await this.options.reader.stop();
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
      const senders = this.senders.get(p);
      this.senders.delete(p);
      for (const sender of senders?.keys() ?? []) this.velocity.importSender(sender, null);
      this.pendingTombstones = this.pendingTombstones.filter((t) => t.partition !== p);
      this.logger.info({ partition: p, dropped: senders?.size ?? 0 }, "partition revoked: velocity state released");
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
    let senders = this.senders.get(partition);
    if (!senders) this.senders.set(partition, (senders = new Map()));
    for (const r of out) {
      senders.delete(r.key!); // renewed: to the back of the order
      senders.set(r.key!, (r.value as VelocityChangelog).expiresAt);
    }
    const max = this.options.maxTrackedSenders ?? this.velocity.maxSenders;
    for (const sender of senders.keys()) {
      if (senders.size <= max) break;
      senders.delete(sender);
      out.push({ topic: this.options.changelogTopic, partition, key: sender, value: null });
    }
    if (this.pendingTombstones.length > 0) {
      out.push(...this.pendingTombstones);
      this.pendingTombstones = [];
    }
    return out;
  }

  /** Tombstones (sent with the next batch) for owned senders whose events all left their windows. */
  prune(): void {
    const now = this.now();
    for (const [partition, senders] of this.senders) {
      if (!this.owned.has(partition)) continue;
      for (const [sender, expiresAt] of senders) {
        // Renewal order is expiry order (every sender's windows are the rule set's windows), so
        // the first live entry ends the round. A rule reload that changes the windows only
        // delays some tombstones until the entries before them expire.
        if (expiresAt > now) break;
        senders.delete(sender);
        this.pendingTombstones.push({ topic: this.options.changelogTopic, partition, key: sender, value: null });
      }
    }
  }

  private async restore(partition: number): Promise<void> {
    const t0 = this.now();
    const latest = new Map<string, VelocityChangelog>();
    let invalid = 0;
    await this.options.reader.readPartition(partition, (records) => {
      for (const r of records) {
        if (r.value === null) {
          latest.delete(r.key);
          continue;
        }
        const decoded = decodeRecord(VelocityChangelogV1, r.value);
        if (decoded.ok) latest.set(r.key, decoded.value);
        else if (invalid++ === 0) this.logger.warn({ key: r.key, offset: r.offset, error: decoded.error }, "skipping invalid changelog record");
      }
    });
    const now = this.now();
    const upTo = new Map<string, bigint>();
    // A record keyed into another partition (written before records followed their traffic partition) is not ours.
    const live = [...latest].filter(([, e]) => e.expiresAt > now && e.partition === partition);
    // Tracked in expiry order, as renewals keep it (see prune).
    live.sort((a, b) => a[1].expiresAt - b[1].expiresAt);
    const senders = new Map<string, number>();
    for (const [sender, e] of live) {
      this.velocity.importSender(sender, e.windows);
      upTo.set(sender, BigInt(e.offset));
      senders.set(sender, e.expiresAt);
    }
    this.restoredUpTo.set(partition, upTo);
    this.senders.set(partition, senders);
    this.owned.add(partition);
    this.logger.info({ partition, senders: upTo.size, records: latest.size, invalid, ms: this.now() - t0 }, "velocity state restored for partition");
  }
}

export interface KafkaChangelogReaderOptions {
  readonly kafka: Kafka;
  readonly logger: Logger;
  readonly topic: string;
  /** Prefix of the reader's consumer group (a fresh group per instance; it never commits). */
  readonly groupId: string;
  /** How long a restore may take before the worker scores with what it read (bounded degradation). */
  readonly timeoutMs?: number;
}

interface ActiveRead {
  /** Where the read starts (the partition's first offset), again after a rejoin. */
  readonly start: string;
  readonly end: bigint;
  readonly onRecords: (records: readonly ChangelogEntry[]) => void;
  readonly done: () => void;
  fetchesSinceProgress: number;
}

/**
 * A consumer that keeps every changelog partition paused and reads one on demand: seek to the
 * start, resume, pause again at the end. kafkajs has no manual assignment, so it subscribes
 * in a group of its own (joined once at start) instead of joining per restore.
 */
export class KafkaChangelogReader implements ChangelogReader {
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly logger: Logger;
  private readonly active = new Map<number, ActiveRead>();

  constructor(private readonly options: KafkaChangelogReaderOptions) {
    this.logger = options.logger.child({ component: "velocity-changelog-reader" });
    this.consumer = options.kafka.consumer({ groupId: `${options.groupId}-velocity-${randomUUID()}`, maxWaitTimeInMs: 50, allowAutoTopicCreation: false });
    this.admin = options.kafka.admin();
  }

  async start(): Promise<void> {
    const { topic } = this.options;
    await this.admin.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: true });
    // Compaction may have removed a partition's last records (old tombstones): then the read never
    // sees the end offset. Fetches that bring nothing for an active read mean it has all there is.
    this.consumer.on(this.consumer.events.FETCH, () => {
      for (const [partition, read] of this.active) {
        if (++read.fetchesSinceProgress >= 3) this.finish(partition);
      }
    });
    // kafkajs' run() returns before the group is joined when the first join fails (a broker that
    // just started): pause on every join instead, keeping the reads under way.
    let joined!: () => void;
    const firstJoin = new Promise<void>((resolve) => (joined = resolve));
    this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
      this.pauseAll();
      for (const [partition, read] of this.active) this.startReading(partition, read.start);
      joined();
    });
    await this.consumer.run({
      autoCommit: false,
      eachBatch: async ({ batch }) => {
        const read = this.active.get(batch.partition);
        if (!read) return; // fetched before the pause took effect, or after the read finished
        const records: ChangelogEntry[] = [];
        for (const m of batch.messages) {
          if (BigInt(m.offset) >= read.end) break;
          const key = m.key?.toString("utf8");
          if (key !== undefined) records.push({ key, value: m.value, offset: m.offset });
        }
        read.onRecords(records);
        read.fetchesSinceProgress = 0;
        const last = batch.messages[batch.messages.length - 1];
        if (last && BigInt(last.offset) + 1n >= read.end) this.finish(batch.partition);
      },
    });
    const timeoutMs = this.options.timeoutMs ?? 30_000;
    const timer = setTimeout(joined, timeoutMs);
    await firstJoin;
    clearTimeout(timer);
  }

  /** Pauses the whole topic; the reads under way resume through startReading. */
  private pauseAll(): void {
    try {
      this.consumer.pause([{ topic: this.options.topic }]);
    } catch (err) {
      this.logger.debug({ err }, "changelog reader not in its group yet");
    }
  }

  /** Seeks a partition to `offset` and resumes it; out of the group, the next join does it. */
  private startReading(partition: number, offset: string): void {
    try {
      this.consumer.seek({ topic: this.options.topic, partition, offset });
      this.consumer.resume([{ topic: this.options.topic, partitions: [partition] }]);
    } catch (err) {
      this.logger.debug({ err, partition }, "changelog reader not in its group yet: the read starts when it joins");
    }
  }

  async readPartition(partition: number, onRecords: (records: readonly ChangelogEntry[]) => void): Promise<void> {
    const { topic } = this.options;
    const bounds = (await this.admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition);
    if (!bounds || BigInt(bounds.high) <= BigInt(bounds.low)) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.logger.warn({ partition }, "velocity changelog read timed out; scoring with partial state");
        this.finish(partition);
      }, this.options.timeoutMs ?? 30_000);
      this.active.set(partition, {
        start: bounds.low,
        end: BigInt(bounds.high),
        onRecords,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
        fetchesSinceProgress: -3, // the seek's first fetches may come back empty
      });
      // Not in the group right now: the next GROUP_JOIN starts this read.
      this.startReading(partition, bounds.low);
    });
  }

  private finish(partition: number): void {
    const read = this.active.get(partition);
    if (!read) return;
    this.active.delete(partition);
    try {
      this.consumer.pause([{ topic: this.options.topic, partitions: [partition] }]);
    } catch {
      // Not in the group (rejoining): the next join pauses every partition not being read.
    }
    read.done();
  }

  async stop(): Promise<void> {
    for (const partition of [...this.active.keys()]) this.finish(partition);
    await this.consumer.disconnect();
    await this.admin.disconnect();
  }
}
