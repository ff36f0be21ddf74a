import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { RawMessageV1, VelocitySnapshotRecordV1, type VelocitySnapshotChunk, type VelocitySnapshotManifest } from "@spam/contracts";
import { decodeRecord, partitionForKey, type BatchingProducer, type OutgoingMessage, type PartitionRangeReader } from "@spam/kafka";
import { canonicalSender, type EvaluateInput, type RuleSet, type SenderVelocity } from "@spam/rules";

/**
 * Per-sender velocity windows follow their traffic partition without a changelog: a worker that
 * takes a partition replays that partition's recent traffic into the windows before it scores the
 * partition's first batch. Traffic is keyed by the canonical sender, so a sender's windows are a
 * function of its partition's traffic alone (sender, recipient, receipt time and the allow list):
 * replaying from the longest window (plus a margin) before now up to the first offset this worker
 * scores gives the windows the previous owner had for everything it committed, and what it scored
 * without committing is scored (and counted) here once. This is the bounded warm-up the scaling
 * design allows: its cost is the partition's traffic over the longest window, read and decoded
 * once (docs/SCORING.md has the figures). It replaced a compacted changelog that wrote one record
 * per sender per batch: ~10 % of the worker's CPU at 5,000 msg/s, on the verdict path.
 *
 * A worker that stops (deploys, scale-in) first writes its partitions' windows as a snapshot, with
 * the offset they are exact up to; the next owner imports it and replays only what came after.
 * A crash leaves no fresh snapshot: the next owner replays the whole window.
 */

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


/** One traffic partition's windows as a stopping worker left them. */
export interface PartitionSnapshot {
  readonly partition: number;
  /** The windows hold exactly the partition's traffic before this offset. */
  readonly offset: string;
  readonly takenAt: number;
  readonly senders: ReadonlyArray<readonly [string, SenderVelocity]>;
}

/** Where stopping workers leave their partitions' windows. */
export interface SnapshotStore {
  start(): Promise<void>;
  /** The latest complete snapshot of a traffic partition, or null. */
  read(partition: number): Promise<PartitionSnapshot | null>;
  write(snapshots: readonly PartitionSnapshot[]): Promise<void>;
  stop(): Promise<void>;
}

export interface VelocityReplayOptions {
  readonly logger: Logger;
  readonly engine: ModalRuleEngine;
  readonly reader: PartitionRangeReader;
  /**
   * Replayed beyond the longest window: the windows run on the gateway's receipt time, the range is
   * found by the broker's timestamps, and the two come from different clocks.
   */
  readonly marginMs?: number;
  /** Snapshots written on stop and read before a replay; absent = always replay the whole window. */
  readonly snapshots?: SnapshotStore;
  readonly now?: () => number;
}

/** The worker's side: replay on the first batch of a partition, pick the velocity mode per message. */
export class VelocityReplay {
  private readonly logger: Logger;
  private readonly owned = new Set<number>();
  private readonly replaying = new Map<number, Promise<void>>();
  /** Per owned partition: the windows hold exactly its traffic before this offset. */
  private readonly exactUpTo = new Map<number, bigint>();
  /** The traffic consumer's latest assignment (null until the first). */
  private assigned: ReadonlySet<number> | null = null;
  private readonly now: () => number;

  constructor(private readonly options: VelocityReplayOptions) {
    this.logger = options.logger.child({ component: "velocity-replay" });
    this.now = options.now ?? Date.now;
  }

  async start(): Promise<void> {
    await this.options.reader.start();
    await this.options.snapshots?.start();
  }

  async stop(): Promise<void> {
    await this.options.reader.stop();
    await this.options.snapshots?.stop();
  }

  setMode(mode: VelocityMode): void {
    this.options.engine.mode = mode;
  }

  /**
   * The traffic consumer's assignment changed. A partition that left is replayed again if it comes
   * back; its senders' windows stay until they expire or the velocity state's LRU cap evicts them
   * (the replay starts each replayed sender afresh, so nothing is counted twice).
   */
  onAssignment(partitions: readonly number[]): void {
    const keep = new Set(partitions);
    this.assigned = keep;
    for (const p of [...this.owned]) {
      if (keep.has(p)) continue;
      this.owned.delete(p);
      this.exactUpTo.delete(p);
      this.logger.info({ partition: p }, "partition revoked: it is replayed again if it comes back");
    }
  }

  /** After a traffic batch was scored (its messages counted): the windows are exact up to its end. */
  afterBatch(partition: number, lastOffset: string): void {
    if (this.owned.has(partition)) this.exactUpTo.set(partition, BigInt(lastOffset) + 1n);
  }

  /**
   * Writes the owned partitions' windows to the snapshot store (when stopping: call it before the
   * traffic consumer leaves its group, so the next owner finds it). Batches scored meanwhile are
   * replayed by the next owner. Returns the senders written.
   */
  async writeSnapshots(): Promise<number> {
    const store = this.options.snapshots;
    if (!store || this.exactUpTo.size === 0) return 0;
    const partitions = await this.options.reader.partitionCount();
    // From here to the export nothing awaits: the windows and the offsets are of one moment.
    const takenAt = this.now();
    const bySender = new Map<string, SenderVelocity>();
    for (const { windowMs, senders } of this.options.engine.inner.velocity.export().windows) {
      // export() writes the current (v2) form: flattened pairs.
      for (const [sender, flat] of senders as Array<[string, number[]]>) {
        let windows = bySender.get(sender);
        if (!windows) bySender.set(sender, (windows = []));
        windows.push([windowMs, flat]);
      }
    }
    const out = new Map<number, Array<[string, SenderVelocity]>>();
    for (const p of this.exactUpTo.keys()) out.set(p, []);
    for (const [sender, windows] of bySender) out.get(partitionForKey(sender, partitions))?.push([sender, windows]);
    const snapshots = [...out].map(([partition, senders]) => ({ partition, offset: String(this.exactUpTo.get(partition)!), takenAt, senders }));
    await store.write(snapshots);
    const written = snapshots.reduce((n, s) => n + s.senders.length, 0);
    this.logger.info({ partitions: snapshots.map((s) => `${s.partition}@${s.offset}`), senders: written, ms: this.now() - takenAt }, "velocity snapshot written");
    return written;
  }

  /** Before a traffic batch: when this worker just took the partition, replay its recent traffic first. */
  async beforeBatch(partition: number, firstOffset: string): Promise<void> {
    if (this.owned.has(partition)) return;
    let pending = this.replaying.get(partition);
    if (pending === undefined) {
      pending = this.replay(partition, firstOffset).finally(() => this.replaying.delete(partition));
      this.replaying.set(partition, pending);
    }
    await pending;
  }

  private async replay(partition: number, endOffset: string): Promise<void> {
    const rules = this.options.engine.inner;
    const windowMs = rules.velocityWindowMs;
    // At offset 0 nothing came before: no need to ask the broker.
    if (windowMs > 0 && endOffset !== "0") {
      const t0 = this.now();
      const fromTimestamp = t0 - windowMs - (this.options.marginMs ?? 60_000);
      const fresh = new Set<string>();
      const snapshot = await this.usableSnapshot(partition, endOffset);
      // The snapshot's senders replace whatever an earlier ownership of this partition left.
      for (const [sender, windows] of snapshot?.senders ?? []) {
        fresh.add(sender);
        rules.velocity.importSender(sender, windows);
      }
      let messages = 0;
      let invalid = 0;
      const range = snapshot ? { fromTimestamp, fromOffset: snapshot.offset, endOffset } : { fromTimestamp, endOffset };
      await this.options.reader.readPartition(partition, range, (records) => {
        for (const r of records) {
          // The same decoding as the traffic consumer: what it dead-lettered was never counted.
          const decoded = decodeRecord(RawMessageV1, r.value);
          if (!decoded.ok) {
            invalid++;
            continue;
          }
          const m = decoded.value;
          const sender = canonicalSender(m.source);
          if (!fresh.has(sender)) {
            // Windows left from an earlier ownership of this partition would count these events twice.
            fresh.add(sender);
            rules.velocity.importSender(sender, null);
          }
          rules.recordVelocity({ sender: m.source, recipient: m.destination, at: m.receivedAt });
          messages++;
        }
      });
      this.logger.info(
        { partition, snapshotOffset: snapshot?.offset ?? null, snapshotSenders: snapshot?.senders.length ?? 0, messages, senders: fresh.size, invalid, endOffset, ms: this.now() - t0 },
        "velocity windows replayed for partition",
      );
    }
    // Revoked while the replay ran: its windows are not this worker's to extend or to snapshot.
    if (this.assigned !== null && !this.assigned.has(partition)) return;
    this.owned.add(partition);
    this.exactUpTo.set(partition, BigInt(endOffset));
  }

  /** The partition's snapshot when it is exact up to an offset at or before the first one to score. */
  private async usableSnapshot(partition: number, endOffset: string): Promise<PartitionSnapshot | null> {
    const store = this.options.snapshots;
    if (!store) return null;
    try {
      const snapshot = await store.read(partition);
      if (snapshot && BigInt(snapshot.offset) > BigInt(endOffset)) {
        // Its windows hold messages this worker is about to score: they would count twice.
        this.logger.warn({ partition, snapshotOffset: snapshot.offset, endOffset }, "velocity snapshot is ahead of the partition's first offset: replaying the window instead");
        return null;
      }
      return snapshot;
    } catch (err) {
      this.logger.warn({ err, partition }, "velocity snapshot unreadable: replaying the window instead");
      return null;
    }
  }
}


export interface KafkaSnapshotStoreOptions {
  readonly producer: BatchingProducer;
  /** A reader of the snapshot topic (a PartitionReader on it). */
  readonly reader: PartitionRangeReader;
  readonly topic: string;
  readonly logger: Logger;
  /** Largest chunk value, roughly (the broker refuses records over 1 MiB by default). */
  readonly chunkBytes?: number;
}

/**
 * Snapshots on a compacted topic, each on the traffic partition's number: chunks (key
 * `partition/index`) first, then the manifest (key `partition`) that names them, so a reader that
 * sees a manifest finds its chunks. Compaction keeps the latest record per key; chunks of an older
 * snapshot that outnumbered the new one stay behind under their old id and are ignored.
 */
export class KafkaSnapshotStore implements SnapshotStore {
  private readonly logger: Logger;

  constructor(private readonly options: KafkaSnapshotStoreOptions) {
    this.logger = options.logger.child({ component: "velocity-snapshots" });
  }

  async start(): Promise<void> {
    await this.options.reader.start();
  }

  async stop(): Promise<void> {
    await this.options.reader.stop();
  }

  async write(snapshots: readonly PartitionSnapshot[]): Promise<void> {
    const { topic, producer } = this.options;
    const limit = this.options.chunkBytes ?? 512 * 1024;
    const chunks: OutgoingMessage[] = [];
    const manifests: OutgoingMessage[] = [];
    for (const snap of snapshots) {
      const snapshotId = randomUUID();
      let index = 0;
      let senders: Array<[string, SenderVelocity]> = [];
      let bytes = 0;
      const flush = () => {
        const value: VelocitySnapshotChunk = { v: 1, kind: "chunk", partition: snap.partition, snapshotId, index, senders };
        chunks.push({ topic, partition: snap.partition, key: `${snap.partition}/${index}`, value });
        index++;
        senders = [];
        bytes = 0;
      };
      for (const [sender, windows] of snap.senders) {
        // Timestamps and hashes print as up to 16 digits each.
        const size = sender.length + 8 + windows.reduce((n, [, flat]) => n + 16 + flat.length * 17, 0);
        if (bytes + size > limit && senders.length > 0) flush();
        senders.push([sender, windows]);
        bytes += size;
      }
      if (senders.length > 0) flush();
      const manifest: VelocitySnapshotManifest = { v: 1, kind: "manifest", partition: snap.partition, snapshotId, offset: snap.offset, chunks: index, takenAt: snap.takenAt };
      manifests.push({ topic, partition: snap.partition, key: String(snap.partition), value: manifest });
    }
    // One at a time: records of one partition sent together form one batch, and the broker's size
    // limit (1 MiB by default) applies to the batch.
    for (const chunk of chunks) await producer.send(chunk);
    await producer.sendMany(manifests);
  }

  async read(partition: number): Promise<PartitionSnapshot | null> {
    let latest: VelocitySnapshotManifest | null = null;
    // Chunks by snapshot id; a manifest drops the ids written before it (older snapshots).
    const chunks = new Map<string, Map<number, VelocitySnapshotChunk>>();
    let invalid = 0;
    await this.options.reader.readPartition(partition, { fromTimestamp: 0, endOffset: "9223372036854775807" }, (records) => {
      for (const r of records) {
        if (r.value === null) continue;
        const decoded = decodeRecord(VelocitySnapshotRecordV1, r.value);
        if (!decoded.ok) {
          invalid++;
          continue;
        }
        const rec = decoded.value;
        if (rec.partition !== partition) continue;
        if (rec.kind === "manifest") {
          latest = rec;
          for (const id of [...chunks.keys()]) if (id !== rec.snapshotId) chunks.delete(id);
        } else {
          let set = chunks.get(rec.snapshotId);
          if (!set) chunks.set(rec.snapshotId, (set = new Map()));
          set.set(rec.index, rec);
        }
      }
    });
    if (invalid > 0) this.logger.warn({ partition, invalid }, "skipped invalid velocity snapshot records");
    const manifest = latest as VelocitySnapshotManifest | null;
    if (!manifest) return null;
    const set = chunks.get(manifest.snapshotId);
    const senders: Array<[string, SenderVelocity]> = [];
    for (let i = 0; i < manifest.chunks; i++) {
      const chunk = set?.get(i);
      if (!chunk) {
        this.logger.warn({ partition, snapshotId: manifest.snapshotId, missing: i }, "velocity snapshot incomplete: ignored");
        return null;
      }
      senders.push(...chunk.senders);
    }
    return { partition, offset: manifest.offset, takenAt: manifest.takenAt, senders };
  }
}
