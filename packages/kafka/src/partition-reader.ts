import { randomUUID } from "node:crypto";
import { Consumer } from "@platformatic/kafka";
import type { Logger } from "pino";
import type { KafkaAdmin } from "./admin.js";
import type { Kafka } from "./client.js";

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
  /** Prefix of the reader's client id (it joins no group and commits nothing). */
  readonly groupId: string;
  /** How long one read may take before it ends with what it has (bounded degradation). */
  readonly timeoutMs?: number;
}

/** Control batches (transaction markers) carry no records of the topic. */
const CONTROL_BATCH = 0x20;
const FETCH_MAX_BYTES = 4 * 1024 * 1024;
/** Fetches in a row that bring nothing before a read ends (records deleted by retention meanwhile). */
const EMPTY_FETCHES = 3;

/**
 * Reads ranges of one partition on demand with plain fetch requests to the partition's leader: no
 * group, no subscription, nothing committed, and concurrent reads of different partitions.
 */
export class PartitionReader implements PartitionRangeReader {
  private readonly client: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private readonly admin: KafkaAdmin;
  private readonly logger: Logger;

  constructor(private readonly options: PartitionReaderOptions) {
    this.logger = options.logger.child({ component: "partition-reader" });
    // The client's fetch() needs no group; the id only names the client in broker logs.
    this.client = new Consumer({ ...options.kafka.baseOptions(), groupId: `${options.groupId}-reader-${randomUUID()}` });
    this.admin = options.kafka.admin();
  }

  /** Resolves once the topic's metadata was read (the broker answers and knows the topic). */
  async start(): Promise<void> {
    await this.client.metadata({ topics: [this.options.topic] });
  }

  async readPartition(partition: number, range: PartitionRange, onRecords: (records: readonly PartitionRecord[]) => void): Promise<void> {
    const { topic } = this.options;
    const bounds = (await this.admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition);
    if (!bounds) return;
    const byTime = (await this.admin.fetchTopicOffsetsByTimestamp(topic, range.fromTimestamp)).find((o) => o.partition === partition);
    // No record at or after the time: the broker answers -1 (or the end offset).
    const from = byTime === undefined || BigInt(byTime.offset) < 0n ? BigInt(bounds.high) : BigInt(byTime.offset);
    let offset = from > BigInt(bounds.low) ? from : BigInt(bounds.low);
    if (range.fromOffset !== undefined && BigInt(range.fromOffset) > offset) offset = BigInt(range.fromOffset);
    const end = BigInt(range.endOffset) < BigInt(bounds.high) ? BigInt(range.endOffset) : BigInt(bounds.high);
    const deadline = Date.now() + (this.options.timeoutMs ?? 30_000);
    let empty = 0;
    while (offset < end) {
      if (Date.now() > deadline) {
        this.logger.warn({ partition }, "partition read timed out; the caller goes on with what was read");
        return;
      }
      const metadata = await this.client.metadata({ topics: [topic] });
      const t = metadata.topics.get(topic);
      const leader = t?.partitions[partition]?.leader;
      if (!t || leader === undefined || leader < 0) {
        await new Promise((r) => setTimeout(r, 100));
        continue;
      }
      const response = await this.client.fetch({
        node: leader,
        maxWaitTime: 50,
        minBytes: 1,
        maxBytes: FETCH_MAX_BYTES,
        topics: [{ topicId: t.id, partitions: [{ partition, currentLeaderEpoch: -1, fetchOffset: offset, lastFetchedEpoch: -1, partitionMaxBytes: FETCH_MAX_BYTES }] }],
      });
      const batches = response.responses[0]?.partitions.find((p) => p.partitionIndex === partition)?.records ?? [];
      const records: PartitionRecord[] = [];
      let next = offset;
      for (const batch of batches) {
        next = batch.firstOffset + BigInt(batch.lastOffsetDelta) + 1n;
        if (batch.attributes & CONTROL_BATCH) continue;
        for (const record of batch.records) {
          const at = batch.firstOffset + BigInt(record.offsetDelta);
          if (at >= offset && at < end) records.push({ offset: String(at), value: record.value ?? null });
        }
      }
      if (next <= offset) {
        if (++empty >= EMPTY_FETCHES) return;
        continue;
      }
      empty = 0;
      offset = next;
      if (records.length > 0) onRecords(records);
    }
  }

  async partitionCount(): Promise<number> {
    return (await this.admin.fetchTopicOffsets(this.options.topic)).length;
  }

  async stop(): Promise<void> {
    await this.client.close(true).catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
  }
}
