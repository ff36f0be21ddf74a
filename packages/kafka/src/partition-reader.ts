import { randomUUID } from "node:crypto";
import type { Kafka } from "kafkajs";
import type { Logger } from "pino";

/** One record as a partition reader delivers it. */
export interface PartitionRecord {
  readonly offset: string;
  readonly value: Buffer | null;
}

export interface PartitionRange {
  /** From the first record the broker stamped at or after this time (epoch ms), and not before `fromOffset`… */
  readonly fromTimestamp: number;
  readonly fromOffset?: string;
  /** …up to this offset, exclusive (clamped to the partition's end). */
  readonly endOffset: string;
}

/** Reads part of one partition of a topic on demand. */
export interface PartitionRangeReader {
  start(): Promise<void>;
  readPartition(partition: number, range: PartitionRange, onRecords: (records: readonly PartitionRecord[]) => void): Promise<void>;
  /** The topic's partition count. */
  partitionCount(): Promise<number>;
  stop(): Promise<void>;
}

export interface PartitionReaderOptions {
  readonly kafka: Kafka;
  readonly logger: Logger;
  readonly topic: string;
  /** Prefix of the reader's consumer group (a fresh group per instance; it never commits). */
  readonly groupId: string;
  /** How long one read may take before it ends with what it has (bounded degradation). */
  readonly timeoutMs?: number;
}

type Consumer = ReturnType<Kafka["consumer"]>;
type Admin = ReturnType<Kafka["admin"]>;

interface ActiveRead {
  /** Where the read starts, again after a rejoin. */
  readonly start: string;
  readonly end: bigint;
  readonly onRecords: (records: readonly PartitionRecord[]) => void;
  readonly done: () => void;
  fetchesSinceProgress: number;
}

/**
 * A consumer that keeps every partition of the topic paused and reads one on demand: seek to the
 * start, resume, pause again at the end. kafkajs has no manual assignment, so it subscribes in a
 * group of its own (joined once at start) instead of joining per read.
 */
export class PartitionReader implements PartitionRangeReader {
  private readonly consumer: Consumer;
  private readonly admin: Admin;
  private readonly logger: Logger;
  private readonly active = new Map<number, ActiveRead>();

  constructor(private readonly options: PartitionReaderOptions) {
    this.logger = options.logger.child({ component: "partition-reader" });
    this.consumer = options.kafka.consumer({ groupId: `${options.groupId}-reader-${randomUUID()}`, maxWaitTimeInMs: 50, allowAutoTopicCreation: false });
    this.admin = options.kafka.admin();
  }

  async start(): Promise<void> {
    const { topic } = this.options;
    await this.admin.connect();
    await this.consumer.connect();
    await this.consumer.subscribe({ topic, fromBeginning: true });
    // Records deleted by retention while a read waits: fetches that bring nothing mean it has all there is.
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
        const records: PartitionRecord[] = [];
        let reachedEnd = false;
        for (const m of batch.messages) {
          if (BigInt(m.offset) >= read.end) {
            reachedEnd = true;
            break;
          }
          records.push({ offset: m.offset, value: m.value });
        }
        read.onRecords(records);
        read.fetchesSinceProgress = 0;
        const last = batch.messages[batch.messages.length - 1];
        if (reachedEnd || (last && BigInt(last.offset) + 1n >= read.end)) this.finish(batch.partition);
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
      this.logger.debug({ err }, "partition reader not in its group yet");
    }
  }

  /** Seeks a partition to `offset` and resumes it; out of the group, the next join does it. */
  private startReading(partition: number, offset: string): void {
    try {
      this.consumer.seek({ topic: this.options.topic, partition, offset });
      this.consumer.resume([{ topic: this.options.topic, partitions: [partition] }]);
    } catch (err) {
      this.logger.debug({ err, partition }, "partition reader not in its group yet: the read starts when it joins");
    }
  }

  async readPartition(partition: number, range: PartitionRange, onRecords: (records: readonly PartitionRecord[]) => void): Promise<void> {
    const { topic } = this.options;
    const bounds = (await this.admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition);
    if (!bounds) return;
    const byTime = (await this.admin.fetchTopicOffsetsByTimestamp(topic, range.fromTimestamp)).find((o) => o.partition === partition);
    // No record at or after the time: the broker answers -1 (or the end offset).
    const from = byTime === undefined || BigInt(byTime.offset) < 0n ? BigInt(bounds.high) : BigInt(byTime.offset);
    let start = from > BigInt(bounds.low) ? from : BigInt(bounds.low);
    if (range.fromOffset !== undefined && BigInt(range.fromOffset) > start) start = BigInt(range.fromOffset);
    const end = BigInt(range.endOffset) < BigInt(bounds.high) ? BigInt(range.endOffset) : BigInt(bounds.high);
    if (end <= start) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        this.logger.warn({ partition }, "partition read timed out; the caller goes on with what was read");
        this.finish(partition);
      }, this.options.timeoutMs ?? 30_000);
      this.active.set(partition, {
        start: String(start),
        end,
        onRecords,
        done: () => {
          clearTimeout(timer);
          resolve();
        },
        fetchesSinceProgress: -3, // the seek's first fetches may come back empty
      });
      // Not in the group right now: the next GROUP_JOIN starts this read.
      this.startReading(partition, String(start));
    });
  }

  async partitionCount(): Promise<number> {
    return (await this.admin.fetchTopicOffsets(this.options.topic)).length;
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
