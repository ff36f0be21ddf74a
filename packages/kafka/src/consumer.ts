import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes, type ConsumerGroupJoinPayload, type Message, type MessagesStream } from "@platformatic/kafka";
import type { Logger } from "pino";
import type { ZodType, ZodTypeDef } from "zod";
import type { DeadLetter } from "@spam/contracts";
import { FETCH_MAX_WAIT_MS, type Kafka } from "./client.js";
import { coalescedCommits, CommitTracker } from "./commits.js";
import { PartitionPipeline, type InFlightBatch } from "./pipeline.js";
import type { BatchingProducer } from "./producer.js";
import { buildDeadLetter, deadLetterKey, decodeRecord, toConsumed, type ConsumedMessage, type KafkaRecord } from "./records.js";

export interface BatchContext {
  readonly topic: string;
  readonly partition: number;
  /** Offset of the batch's first record (dead-lettered ones included). */
  readonly firstOffset: string;
  /** Kept for handlers written for clients that needed it: the client heartbeats on its own. */
  heartbeat(): Promise<void>;
  isRunning(): boolean;
}

export interface DeadLetterTarget {
  readonly producer: BatchingProducer;
  readonly topic: string;
  /** The service name recorded on each dead letter. */
  readonly service: string;
}

/** What a batch's commit covered, with the partition's lag as last measured. */
interface BatchCommittedInfo {
  readonly topic: string;
  readonly partition: number;
  readonly count: number;
  readonly lag: number;
}

/** Typed hooks into a consumer's life (metrics, partition-local state): see `SchemaConsumer.observe`. */
export interface ConsumerObserver {
  /** After each commit. */
  readonly onBatchCommitted?: (info: BatchCommittedInfo) => void;
  /** After each join of the group: this member's partitions per topic. */
  readonly onAssignment?: (assignment: Readonly<Record<string, readonly number[]>>) => void;
  /** Each partition's lag (records after the committed offset), measured every few seconds. */
  readonly onLag?: (topic: string, partition: number, lag: number) => void;
  /** The consumer failed and rejoins (`consumer_crash`) or a handler failed (`handler_failed`). */
  readonly onError?: (kind: "consumer_crash" | "handler_failed") => void;
}

export interface SchemaConsumerOptions<T> {
  readonly kafka: Kafka;
  readonly logger: Logger;
  readonly groupId: string;
  /**
   * The group's id before it was renamed: while the group has committed nothing for a topic, it starts
   * where the former group left off, so a rename neither replays nor skips anything.
   */
  readonly formerGroupId?: string;
  readonly topics: readonly string[];
  readonly schema: ZodType<T, ZodTypeDef, unknown>;
  /**
   * A cheap look at a record's bytes before it is parsed: false skips the record (not validated, not
   * handed over, committed with its batch). For a consumer that acts on few of a topic's records; it
   * must let through every record the handler could act on (a superset test on the bytes).
   */
  readonly prefilter?: (value: Buffer) => boolean;
  readonly deadLetter: DeadLetterTarget;
  /**
   * Called with the valid messages of one partition batch, in offset order.
   * Offsets are committed only after it resolves; if it throws, the batch is
   * fetched again (at-least-once), so handlers must be idempotent.
   */
  readonly handleBatch: (messages: readonly ConsumedMessage<T>[], context: BatchContext) => Promise<void>;
  readonly fromBeginning?: boolean;
  /** Broker waits for this many bytes (or `fetchMaxWaitMs`) before answering: larger batches. */
  readonly fetchMinBytes?: number;
  /**
   * Default 500. With the default `fetchMinBytes` (1) a fetch returns as soon as a record arrives, so
   * the wait only paces the fetches of an idle topic (each is a request on both sides).
   */
  readonly fetchMaxWaitMs?: number;
  /**
   * Upper bounds of one fetch. The consumer reads ahead at most `maxBufferedRecords`
   * records while the handler works, so these and that bound what it holds in memory.
   */
  readonly fetchMaxBytesPerPartition?: number;
  readonly fetchMaxBytes?: number;
  /** Records fetched ahead while handlers work (default 2,048): also the largest batch one handler call sees. */
  readonly maxBufferedRecords?: number;
  readonly partitionsConsumedConcurrently?: number;
  readonly sessionTimeoutMs?: number;
  /**
   * Commit without holding up the next batch. Commits still follow the handler and go out
   * in order per partition; one that fails is logged and superseded by the next
   * (at-least-once either way); stop() waits for them.
   */
  readonly commitInBackground?: boolean;
  /**
   * With `commitInBackground`: a partition's handled batches are committed together at most
   * this often (each commit is a write to __consumer_offsets). A crash redoes at most this
   * much work. Default 100.
   */
  readonly commitIntervalMs?: number;
  /**
   * With `commitInBackground`: how many batches of one partition may be in the handler at once.
   * Above 1, the next batch is handed over while earlier handlers still wait for their I/O (a
   * scorer's verdicts waiting for the broker's ack). Handlers start in offset order; a batch is
   * committed once it and every batch before it resolved. When one rejects, nothing of its
   * partition is committed past the earliest batch not yet settled, and the consumer fetches
   * again from the last commit (at-least-once, as always). Default 1.
   */
  readonly maxBatchesInFlight?: number;
  /** Called after each committed batch with its size (for metrics). */
  readonly onBatchCommitted?: (info: BatchCommittedInfo) => void;
}

type Raw = Message<Buffer, Buffer, Buffer, Buffer>;

const LAG_INTERVAL_MS = 5_000;

/**
 * A consumer-group member that validates every record against a contract,
 * dead-letters what fails (with the error, before committing past it) and
 * commits offsets only after the handler processed the batch.
 *
 * Records are read from the client's stream in the bursts one fetch brings, one batch per
 * partition; the stream reads ahead `maxBufferedRecords` while handlers work. A handler that
 * fails (or a stream that fails) restarts the member: what was handled is committed, then it
 * fetches again from the last commit of every partition.
 */
export class SchemaConsumer<T> {
  private client: Consumer<Buffer, Buffer, Buffer, Buffer> | null = null;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | null = null;
  /** Bumped on each (re)start: batches read from an earlier stream are not handled. */
  private epoch = 0;
  private running = false;
  private paused = false;
  private pumping: Promise<void> | null = null;
  private restarting: Promise<void> | null = null;
  /** Restarts since a batch was last handled: each waits longer (a handler failing on an outage). */
  private failures = 0;
  private readonly logger: Logger;
  private readonly observers = new Set<ConsumerObserver>();
  private readonly commits: CommitTracker;
  /** Per partition, the batches still in the handler (only with `maxBatchesInFlight` > 1). */
  private readonly pipelines = new Map<string, PartitionPipeline>();
  /** Per partition, the lag last measured. */
  private readonly lags = new Map<string, number>();

  constructor(private readonly options: SchemaConsumerOptions<T>) {
    this.logger = options.logger.child({ component: "consumer", groupId: options.groupId });
    if (options.onBatchCommitted) this.observers.add({ onBatchCommitted: options.onBatchCommitted });
    this.commits = new CommitTracker({
      logger: this.logger,
      intervalMs: options.commitIntervalMs ?? 100,
      background: () => this.running && this.options.commitInBackground === true,
      commit: coalescedCommits((offsets) => {
        const client = this.client;
        if (!client) return Promise.reject(new Error("consumer is closed"));
        return client.commit({ offsets });
      }),
      onCommitted: ({ topic, partition, count }) => {
        const lag = this.lags.get(`${topic}:${partition}`) ?? 0;
        for (const o of this.observers) o.onBatchCommitted?.({ topic, partition, count, lag });
      },
    });
  }

  /** Adds hooks (metrics, partition-local state); returns their remover. They stay across restarts. */
  observe(observer: ConsumerObserver): () => void {
    this.observers.add(observer);
    return () => void this.observers.delete(observer);
  }

  async start(): Promise<void> {
    this.running = true;
    if (this.options.formerGroupId !== undefined && this.options.formerGroupId !== this.options.groupId) await this.adoptFormerOffsets(this.options.formerGroupId);
    if (this.options.fromBeginning === false) await this.pinStartOffsets();
    await this.open();
  }

  /** Copies the former group's commits to a group that has none yet for the topic (done once: then it has). */
  private async adoptFormerOffsets(former: string): Promise<void> {
    const { groupId, topics, kafka } = this.options;
    const admin = kafka.admin();
    try {
      for (const topic of topics) {
        const [own] = await admin.fetchOffsets({ groupId, topics: [topic] });
        if ((own?.partitions ?? []).some((p) => Number(p.offset) >= 0)) continue;
        const [theirs] = await admin.fetchOffsets({ groupId: former, topics: [topic] });
        const partitions = (theirs?.partitions ?? []).filter((p) => Number(p.offset) >= 0);
        if (partitions.length === 0) continue;
        await admin.setOffsets({ groupId, topic, partitions });
        this.logger.info({ topic, former, partitions: partitions.length }, "group renamed: starting where the former group left off");
      }
    } catch (err) {
      // E.g. a member of the new group is already running: it adopted them.
      this.logger.warn({ err, former }, "could not adopt the former group's offsets");
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  /**
   * `fromBeginning: false` means "from now on", but the client looks up the end of a partition with no
   * committed offset when it first fetches it, and again after a restart: records published after
   * `start()` returned would be skipped when the member died before its first commit. Committing the
   * current end for such partitions, before joining, makes "now" the moment of the first start.
   */
  private async pinStartOffsets(): Promise<void> {
    const { groupId, topics, kafka } = this.options;
    const admin = kafka.admin();
    try {
      for (const topic of topics) {
        const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
        const unset = (committed?.partitions ?? []).filter((p) => Number(p.offset) < 0).map((p) => p.partition);
        if (unset.length === 0) continue;
        const ends = new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, o.high]));
        const partitions = unset.flatMap((partition) => {
          const offset = ends.get(partition);
          return offset === undefined ? [] : [{ partition, offset }];
        });
        if (partitions.length > 0) await admin.setOffsets({ groupId, topic, partitions });
      }
    } catch (err) {
      // E.g. another member of the group is already running (it pinned them): the client's own lookup applies.
      this.logger.warn({ err }, "could not pin the start offsets of a from-now-on consumer");
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async open(): Promise<void> {
    const o = this.options;
    const sessionTimeout = o.sessionTimeoutMs ?? 10_000;
    const client = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      ...o.kafka.baseOptions(),
      groupId: o.groupId,
      autocommit: false,
      minBytes: o.fetchMinBytes ?? 1,
      maxWaitTime: o.fetchMaxWaitMs ?? FETCH_MAX_WAIT_MS,
      ...(o.fetchMaxBytes ? { maxBytes: o.fetchMaxBytes } : {}),
      ...(o.fetchMaxBytesPerPartition ? { maxBytesPerPartition: o.fetchMaxBytesPerPartition } : {}),
      highWaterMark: o.maxBufferedRecords ?? 2_048,
      sessionTimeout,
      rebalanceTimeout: Math.max(sessionTimeout, 30_000),
      heartbeatInterval: 3_000,
    });
    this.client = client;
    client.on("consumer:group:join", (payload: ConsumerGroupJoinPayload) => this.joined(payload));
    client.on("consumer:lag", (offsets: Map<string, bigint[]>) => this.measured(offsets));
    client.on("error", (err: Error) => this.crashed(client, err));
    const stream = await client.consume({
      topics: [...o.topics],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: (o.fromBeginning ?? true) ? MessagesStreamFallbackModes.EARLIEST : MessagesStreamFallbackModes.LATEST,
      autocommit: false,
    });
    const epoch = ++this.epoch;
    this.stream = stream;
    this.pipelines.clear();
    stream.on("readable", () => this.pump(stream, epoch));
    stream.on("error", (err) => this.crashed(client, err));
    client.startLagMonitoring({ topics: [...o.topics] }, LAG_INTERVAL_MS);
    this.pump(stream, epoch);
  }

  private joined(payload: ConsumerGroupJoinPayload): void {
    const assignment: Record<string, number[]> = {};
    for (const a of payload.assignments ?? []) assignment[a.topic] = [...a.partitions];
    for (const o of this.observers) o.onAssignment?.(assignment);
  }

  /** The client's lag monitor: one measurement per partition (-1: not ours). */
  private measured(offsets: Map<string, bigint[]>): void {
    for (const [topic, partitions] of offsets) {
      partitions.forEach((lag, partition) => {
        if (lag < 0n) return;
        this.lags.set(`${topic}:${partition}`, Number(lag));
        for (const o of this.observers) o.onLag?.(topic, partition, Number(lag));
      });
    }
  }

  private crashed(client: Consumer<Buffer, Buffer, Buffer, Buffer>, err: Error): void {
    if (client !== this.client || !this.running) return;
    this.logger.error({ err }, "consumer failed: rejoining");
    for (const o of this.observers) o.onError?.("consumer_crash");
    this.restart();
  }

  /** False once a rebalance gave the partition to another member (while rejoining: still ours). */
  private isAssigned(topic: string, partition: number): boolean {
    const assignments = this.client?.assignments;
    if (!assignments) return true;
    return assignments.some((a) => a.topic === topic && a.partitions.includes(partition));
  }

  /** Reads what the stream has, one batch per partition, until it has nothing or the member stops. */
  private pump(stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>, epoch: number): void {
    if (this.pumping || this.paused || !this.running || epoch !== this.epoch) return;
    this.pumping = (async () => {
      while (this.running && !this.paused && epoch === this.epoch) {
        const batches = new Map<string, Raw[]>();
        let count = 0;
        for (let m: Raw | null = stream.read() as Raw | null; m !== null; m = stream.read() as Raw | null) {
          const key = `${m.topic}:${m.partition}`;
          const batch = batches.get(key);
          if (batch) batch.push(m);
          else batches.set(key, [m]);
          if (++count >= (this.options.maxBufferedRecords ?? 2_048)) break;
        }
        if (count === 0) return;
        await this.handleAll([...batches.values()], epoch);
      }
    })()
      .catch((err: unknown) => this.logger.error({ err }, "consumer loop failed"))
      .finally(() => {
        this.pumping = null;
        // Records that arrived meanwhile raise no new 'readable' until the buffer is read.
        if (stream.readableLength > 0) this.pump(stream, epoch);
      });
  }

  private async handleAll(batches: Raw[][], epoch: number): Promise<void> {
    const concurrency = Math.max(1, this.options.partitionsConsumedConcurrently ?? 1);
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < batches.length) await this.handleBatch(batches[next++]!, epoch);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, worker));
  }

  private async handleBatch(records: Raw[], epoch: number): Promise<void> {
    const first = records[0]!;
    const last = records[records.length - 1]!;
    const { topic, partition } = first;
    // Revoked since the fetch, or fetched before a restart: the owner handles them from the last commit.
    if (epoch !== this.epoch || !this.isAssigned(topic, partition)) return;
    const valid: ConsumedMessage<T>[] = [];
    const dead: DeadLetter[] = [];
    const prefilter = this.options.prefilter;
    for (const record of records) {
      if (prefilter && record.value && !prefilter(record.value)) continue;
      const decoded = decodeRecord(this.options.schema, record.value);
      if (decoded.ok) valid.push(toConsumed(record as KafkaRecord, decoded.value));
      else {
        dead.push(
          buildDeadLetter({
            topic,
            partition,
            offset: String(record.offset),
            key: record.key ?? null,
            value: record.value ?? null,
            error: decoded.error,
            service: this.options.deadLetter.service,
          }),
        );
      }
    }
    const key = `${topic}:${partition}`;
    try {
      if (dead.length > 0) {
        this.logger.warn({ topic, partition, count: dead.length, firstError: dead[0]?.error }, "dead-lettering invalid records");
        const { producer, topic: dlq } = this.options.deadLetter;
        await producer.sendMany(dead.map((d) => ({ topic: dlq, key: deadLetterKey(d), value: d })));
      }
    } catch (err) {
      this.failed(err, topic, partition);
      return;
    }
    const context: BatchContext = { topic, partition, firstOffset: String(first.offset), heartbeat: async () => undefined, isRunning: () => this.running };
    const maxInFlight = this.options.commitInBackground ? (this.options.maxBatchesInFlight ?? 1) : 1;
    const entry: InFlightBatch = { firstOffset: first.offset, next: last.offset + 1n, leaderEpoch: last.leaderEpoch, count: records.length, settled: false };
    if (maxInFlight > 1 && this.running) {
      let handled: Promise<void> = Promise.resolve();
      try {
        if (valid.length > 0) handled = this.options.handleBatch(valid, context);
      } catch (err) {
        handled = Promise.reject(err as Error);
      }
      await this.pipeline(key).handOver(handled, entry, maxInFlight, { topic, partition });
      return;
    }
    // Stopping: batches handed over earlier settle first, so this commit never passes one that fails.
    const pipeline = this.pipelines.get(key);
    if (pipeline && !(await pipeline.settle())) return;
    try {
      if (valid.length > 0) await this.options.handleBatch(valid, context);
    } catch (err) {
      this.logger.error({ err, topic, partition, offset: context.firstOffset }, "batch handler failed: handling it again");
      this.failed(err, topic, partition);
      return;
    }
    if (epoch !== this.epoch) return; // restarted meanwhile: the new stream starts at the last commit
    this.failures = 0;
    this.commits.markHandled(topic, partition, entry.next, entry.leaderEpoch, entry.count);
    if (!this.options.commitInBackground || !this.running) {
      try {
        await this.commits.flush(key, true);
      } catch (err) {
        this.logger.warn({ err, topic, partition }, "offset commit failed: handling the batch again");
        this.failed(err, topic, partition);
      }
    } else this.commits.schedule(key);
  }

  private pipeline(key: string): PartitionPipeline {
    let p = this.pipelines.get(key);
    if (!p) {
      const [topic, partition] = [key.slice(0, key.lastIndexOf(":")), Number(key.slice(key.lastIndexOf(":") + 1))];
      p = new PartitionPipeline(this.logger, {
        onSettled: (b) => {
          this.failures = 0;
          this.commits.markHandled(topic, partition, b.next, b.leaderEpoch, b.count);
          this.commits.schedule(key);
        },
        onFailed: (err) => this.failed(err, topic, partition),
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** A batch could not be handled: the member fetches again from the last commit (while running). */
  private failed(err: unknown, topic: string, partition: number): void {
    for (const o of this.observers) o.onError?.("handler_failed");
    if (!this.running) return; // the next member handles it, from the last commit (before the failure)
    this.logger.debug({ err, topic, partition }, "restarting from the last commit");
    this.restart();
  }

  private restart(): void {
    this.restarting ??= this.rebuild().finally(() => (this.restarting = null));
  }

  /**
   * Commits what was handled, leaves, waits (longer after each failure in a row: an outage of what the
   * handler writes to), and joins again: the stream starts at each partition's last commit.
   */
  private async rebuild(): Promise<void> {
    this.epoch++; // nothing read from the old stream is handled any more
    await this.drain();
    this.commits.reset();
    await this.close();
    await this.sleep(Math.min(5_000, 100 * 2 ** Math.min(this.failures++, 6)));
    for (let attempt = 1; this.running; attempt++) {
      try {
        await this.open();
        this.logger.info({ attempt }, "consumer rejoined");
        return;
      } catch (err) {
        this.logger.error({ err, attempt }, "consumer could not rejoin yet");
        await this.close();
        await this.sleep(Math.min(30_000, 500 * 2 ** attempt));
      }
    }
  }

  /** Waits, or less when the member stops meanwhile. */
  private async sleep(ms: number): Promise<void> {
    const deadline = Date.now() + ms;
    while (this.running && Date.now() < deadline) await new Promise((r) => setTimeout(r, Math.min(100, deadline - Date.now())));
  }

  /** Lets the batches in hand finish and commits what they (and all before them) handled. */
  private async drain(): Promise<void> {
    await this.pumping;
    await Promise.allSettled([...this.pipelines.values()].flatMap((p) => [...p.handlers]));
    await this.commits.flushAll();
  }

  private async close(): Promise<void> {
    const { client, stream } = this;
    this.stream = null;
    if (stream) await stream.close().catch(() => undefined);
    if (client) {
      client.stopLagMonitoring();
      await client.close(true).catch((err: unknown) => this.logger.debug({ err }, "closing the consumer failed"));
    }
    this.client = null;
  }

  /** Stops handing out batches until `resume()` (the read-ahead buffer then stops the fetches). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    if (this.stream) this.pump(this.stream, this.epoch);
  }

  /** Stops reading, lets the batches in hand finish and commit, then leaves the group. */
  async stop(): Promise<void> {
    if (!this.running) {
      await this.close();
      return;
    }
    this.running = false;
    await this.restarting;
    await this.drain();
    await this.close();
  }
}
