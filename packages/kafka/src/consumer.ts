import type { Consumer, EachBatchPayload, IHeaders, InstrumentationEvent, Kafka, KafkaMessage } from "kafkajs";
import type { Logger } from "pino";
import type { ZodType, ZodTypeDef } from "zod";
import type { DeadLetter } from "@spam/contracts";
import { redactDeadLetter } from "./redact.js";
import type { BatchingProducer } from "./producer.js";

export interface ConsumedMessage<T> {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly key: string | null;
  readonly value: T;
  /** Broker timestamp (epoch ms). */
  readonly timestamp: number;
  readonly headers: Readonly<Record<string, string>>;
}

export interface BatchContext {
  readonly topic: string;
  readonly partition: number;
  /** Offset of the batch's first record (dead-lettered ones included). */
  readonly firstOffset: string;
  heartbeat(): Promise<void>;
  isRunning(): boolean;
}

export interface DeadLetterTarget {
  readonly producer: BatchingProducer;
  readonly topic: string;
  /** The service name recorded on each dead letter. */
  readonly service: string;
}

export interface SchemaConsumerOptions<T> {
  readonly kafka: Kafka;
  readonly logger: Logger;
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly schema: ZodType<T, ZodTypeDef, unknown>;
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
  readonly fetchMaxWaitMs?: number;
  /**
   * Upper bounds of one fetch (kafkajs defaults: 1 MiB per partition, 10 MiB in all).
   * The next fetch of a partition waits for `handleBatch`, so these bound what a
   * consumer holds in memory and how many records one handler call can see.
   */
  readonly fetchMaxBytesPerPartition?: number;
  readonly fetchMaxBytes?: number;
  readonly partitionsConsumedConcurrently?: number;
  readonly sessionTimeoutMs?: number;
  /**
   * Commit without holding up the next fetch: kafkajs fetches again only when every batch of
   * the last fetch was handled, so an awaited commit adds a broker round trip to every cycle.
   * Commits still follow the handler and go out in order per partition; one that fails is
   * logged and superseded by the next (at-least-once either way); stop() waits for them.
   */
  readonly commitInBackground?: boolean;
  /**
   * With `commitInBackground`: a partition's handled batches are committed together at most
   * this often (each commit is a write to __consumer_offsets; one per small batch cost the
   * broker more CPU than the messages). A crash redoes at most this much work. Default 100.
   */
  readonly commitIntervalMs?: number;
  /**
   * With `commitInBackground`: how many batches of one partition may be in the handler at once.
   * Above 1, the next batch is fetched and handed over while earlier handlers still wait for
   * their I/O (a scorer's verdicts waiting for the broker's ack), so a fetch cycle no longer
   * includes that round trip. Handlers start in offset order; a batch is committed once it and
   * every batch before it resolved. When one rejects, its partition is sought back to the first
   * offset of the earliest batch not yet settled (this one, or one before it still in the
   * handler) and everything from there is handled again (at-least-once, as always).
   * Default 1: the next fetch waits for the handler.
   */
  readonly maxBatchesInFlight?: number;
  /** Called after each committed batch with its size (for metrics). */
  readonly onBatchCommitted?: (info: { topic: string; partition: number; count: number; lag: number }) => void;
}

function headersToRecord(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (!headers) return out;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const first = Array.isArray(value) ? value[0] : value;
    if (first !== undefined) out[name] = first.toString();
  }
  return out;
}

interface PendingCommit {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to commit (last handled + 1); null when nothing waits. */
  offset: string | null;
  /** Messages in the batches this commit covers (for metrics). */
  count: number;
  lag: number;
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
}

/** A batch handed to the handler while earlier ones of its partition may still be settling. */
interface InFlightBatch {
  readonly firstOffset: string;
  readonly lastOffset: string;
  readonly count: number;
  readonly lag: number;
  settled: boolean;
}

interface PartitionPipeline {
  /** Handed-over batches in offset order, until they and all before them settled. */
  queue: InFlightBatch[];
  readonly handlers: Set<Promise<void>>;
  /** Bumped when a batch fails: the batches handed over before the seek no longer count. */
  generation: number;
  /**
   * A batch failed and no batch fetched after the seek back has come yet. While stopping there
   * is no seek, so a batch already fetched must not be handled and committed past the failure.
   */
  failed: boolean;
}

export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: string };

/** JSON + schema check of one record; never throws. */
export function decodeRecord<T>(schema: ZodType<T, ZodTypeDef, unknown>, raw: Buffer | null): DecodeResult<T> {
  if (raw === null) return { ok: false, error: "empty record value (tombstone) on a non-compacted topic" };
  let json: unknown;
  try {
    json = JSON.parse(raw.toString("utf8"));
  } catch (e) {
    return { ok: false, error: `invalid JSON: ${(e as Error).message}` };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`);
    return { ok: false, error: `schema validation failed: ${issues.join("; ")}` };
  }
  return { ok: true, value: parsed.data };
}

/**
 * A consumer-group member that validates every record against a contract,
 * dead-letters what fails (with the error, before committing past it) and
 * commits offsets only after the handler processed the batch.
 */
export class SchemaConsumer<T> {
  private consumer: Consumer;
  private recovering: Promise<void> | null = null;
  /** Listeners added through `raw`: attached again to the consumer rebuilt after a crash. */
  private readonly listeners = new Set<{ event: string; listener: (event: InstrumentationEvent<unknown>) => void; remove: () => void }>();
  private readonly logger: Logger;
  private running = false;
  /**
   * Per partition, the offset waiting for a background commit and the commit under way. Entries of
   * revoked partitions stay (an empty one is a few fields): at most one per partition of the topics.
   */
  private readonly commits = new Map<string, PendingCommit>();
  /** Per partition, the batches still in the handler (only with `maxBatchesInFlight` > 1); bounded the same way. */
  private readonly pipelines = new Map<string, PartitionPipeline>();

  constructor(private readonly options: SchemaConsumerOptions<T>) {
    this.logger = options.logger.child({ component: "consumer", groupId: options.groupId });
    this.consumer = this.createConsumer();
  }

  private createConsumer(): Consumer {
    const options = this.options;
    const consumer = options.kafka.consumer({
      groupId: options.groupId,
      allowAutoTopicCreation: false,
      minBytes: options.fetchMinBytes ?? 1,
      maxWaitTimeInMs: options.fetchMaxWaitMs ?? 100,
      ...(options.fetchMaxBytesPerPartition ? { maxBytesPerPartition: options.fetchMaxBytesPerPartition } : {}),
      ...(options.fetchMaxBytes ? { maxBytes: options.fetchMaxBytes } : {}),
      sessionTimeout: options.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: 3_000,
    });
    // kafkajs restarts itself after retriable errors only; after any other crash
    // (e.g. retries exhausted while the broker restarts) it would stay stopped
    // for good, so a stalled partition never drains. Rebuild and rejoin instead.
    for (const entry of this.listeners) entry.remove = consumer.on(entry.event as never, entry.listener);
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart || !this.running) return;
      this.logger.error({ err: payload.error }, "consumer crashed and kafkajs will not restart it: rejoining");
      this.recovering ??= this.recover().finally(() => (this.recovering = null));
    });
    return consumer;
  }

  private async recover(): Promise<void> {
    for (let attempt = 1; this.running; attempt++) {
      await this.consumer.disconnect().catch(() => undefined);
      await new Promise((r) => setTimeout(r, Math.min(30_000, 500 * 2 ** attempt)));
      if (!this.running) return;
      this.consumer = this.createConsumer();
      try {
        await this.run();
        this.logger.info({ attempt }, "consumer rejoined after a crash");
        return;
      } catch (err) {
        this.logger.error({ err, attempt }, "consumer could not rejoin yet");
      }
    }
  }

  /**
   * The kafkajs consumer's instrumentation events. A listener stays attached across the
   * rebuild after a crash (it would otherwise hear only the first consumer's events).
   */
  get raw(): Pick<Consumer, "on" | "events"> {
    const on = ((event: string, listener: (event: InstrumentationEvent<unknown>) => void) => {
      const entry = { event, listener, remove: this.consumer.on(event as never, listener) };
      this.listeners.add(entry);
      return () => {
        entry.remove();
        this.listeners.delete(entry);
      };
    }) as Consumer["on"];
    return { events: this.consumer.events, on };
  }

  async start(): Promise<void> {
    this.running = true;
    if (this.options.fromBeginning === false) await this.pinStartOffsets();
    await this.run();
  }

  /**
   * `fromBeginning: false` means "from now on", but kafkajs only looks up the end of a
   * partition with no committed offset at its first fetch, and looks it up again after a
   * restart: records published after `start()` returned were skipped when the join was
   * late (a crash kafkajs restarts) or the member died before its first commit (the next
   * one started at the new end). Committing the current end for such partitions, before
   * joining, makes "now" the moment of the first start, durable across crashes.
   */
  private async pinStartOffsets(): Promise<void> {
    const { groupId, topics, kafka } = this.options;
    const admin = kafka.admin();
    try {
      await admin.connect();
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
      // E.g. another member of the group is already running (it pinned them): kafkajs' own lookup applies.
      this.logger.warn({ err }, "could not pin the start offsets of a from-now-on consumer");
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }

  private async run(): Promise<void> {
    await this.consumer.connect();
    for (const topic of this.options.topics) {
      await this.consumer.subscribe({ topic, fromBeginning: this.options.fromBeginning ?? true });
    }
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: (payload) => this.processBatch(payload),
    });
  }

  pause(): void {
    this.consumer.pause(this.options.topics.map((topic) => ({ topic })));
  }

  resume(): void {
    this.consumer.resume(this.options.topics.map((topic) => ({ topic })));
  }

  /** Stops fetching, lets the batch in hand finish and commit, then leaves the group. */
  async stop(): Promise<void> {
    if (!this.running) {
      await this.consumer.disconnect();
      return;
    }
    this.running = false;
    await this.recovering;
    // Handlers still settling finish first, so what they did is committed below.
    await Promise.allSettled([...this.pipelines.values()].flatMap((p) => [...p.handlers]));
    // The batch in hand commits synchronously now that running is false; pending commits go first.
    await Promise.all([...this.commits.keys()].map((key) => this.flushCommit(key)));
    await this.consumer.stop();
    await this.consumer.disconnect();
  }

  private async processBatch(payload: EachBatchPayload): Promise<void> {
    const { batch, heartbeat, isRunning, isStale, resolveOffset } = payload;
    const { topic, partition } = batch;
    const valid: ConsumedMessage<T>[] = [];
    const dead: DeadLetter[] = [];
    for (const message of batch.messages) {
      const decoded = decodeRecord(this.options.schema, message.value);
      if (decoded.ok) valid.push(this.toConsumed(topic, partition, message, decoded.value));
      else dead.push(this.toDeadLetter(topic, partition, message, decoded.error));
    }
    if (dead.length > 0) {
      this.logger.warn({ topic, partition, count: dead.length, firstError: dead[0]?.error }, "dead-lettering invalid records");
      const { producer, topic: dlq } = this.options.deadLetter;
      await producer.sendMany(dead.map((d) => ({ topic: dlq, key: `${d.sourceTopic}:${d.partition}:${d.offset}`, value: d })));
    }
    const first = batch.messages[0];
    const last = batch.messages[batch.messages.length - 1];
    const key = `${topic}:${partition}`;
    const context: BatchContext = { topic, partition, firstOffset: first?.offset ?? batch.firstOffset() ?? "0", heartbeat, isRunning };
    const maxInFlight = this.options.commitInBackground ? (this.options.maxBatchesInFlight ?? 1) : 1;
    if (maxInFlight > 1 && this.running && first && last) {
      // Fetched before a seek back (an earlier batch failed): the seek redoes it; never commit it.
      if (isStale()) return;
      let handled: Promise<void> = Promise.resolve();
      try {
        if (valid.length > 0) handled = this.options.handleBatch(valid, context);
      } catch (err) {
        handled = Promise.reject(err as Error);
      }
      resolveOffset(last.offset); // the next fetch starts after this batch; its commit waits for the handler
      const lag = Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n);
      await this.handOver(key, topic, partition, handled, {
        firstOffset: first.offset,
        lastOffset: last.offset,
        count: batch.messages.length,
        lag,
        settled: false,
      }, maxInFlight);
      await heartbeat();
      return;
    }
    // Stopping: batches handed over earlier settle first, so this commit never passes one that fails.
    const pipeline = this.pipelines.get(key);
    if (pipeline && pipeline.handlers.size > 0) {
      const generation = pipeline.generation;
      await Promise.allSettled([...pipeline.handlers]);
      if (pipeline.generation !== generation) return; // one failed: it and this batch are handled again
    }
    if (pipeline?.failed) return; // the next member handles it, from the last commit (before the failure)
    if (valid.length > 0 && !isStale()) await this.options.handleBatch(valid, context);
    if (isStale()) return; // partition was revoked: the new owner reprocesses from the last commit
    if (!last) return;
    resolveOffset(last.offset);
    const lag = Number(BigInt(batch.highWatermark) - BigInt(last.offset) - 1n);
    const pending = this.markHandled(key, topic, partition, last.offset, batch.messages.length, lag);
    if (!this.options.commitInBackground || !this.running) await this.flushCommit(key);
    else if (!pending.running) this.scheduleCommit(key, pending);
    await heartbeat();
  }

  /** Records a handled batch as the partition's next offset to commit. */
  private markHandled(key: string, topic: string, partition: number, lastOffset: string, count: number, lag: number): PendingCommit {
    let pending = this.commits.get(key);
    if (!pending) this.commits.set(key, (pending = { topic, partition, offset: null, count: 0, lag: 0, timer: null, running: null }));
    pending.offset = (BigInt(lastOffset) + 1n).toString();
    pending.count += count;
    pending.lag = lag;
    return pending;
  }

  /**
   * Tracks a batch whose handler is still running and returns once fewer than `maxInFlight`
   * batches of its partition are. Settled batches are committed in offset order; a failed one
   * sends the partition back to the first offset of the earliest batch not yet settled.
   */
  private async handOver(
    key: string,
    topic: string,
    partition: number,
    handled: Promise<void>,
    entry: InFlightBatch,
    maxInFlight: number,
  ): Promise<void> {
    let pipeline = this.pipelines.get(key);
    if (!pipeline) this.pipelines.set(key, (pipeline = { queue: [], handlers: new Set(), generation: 0, failed: false }));
    const p = pipeline;
    p.failed = false; // fetched after the seek back (stale batches never get here)
    const generation = p.generation;
    p.queue.push(entry);
    const tracked: Promise<void> = handled.then(
      () => {
        // Sought back after an earlier batch failed: this one is handled again. (After a rebalance
        // the commit is still made: it covers only work that was done, so nothing is skipped.)
        if (p.generation !== generation) return;
        entry.settled = true;
        while (p.queue[0]?.settled) {
          const done = p.queue.shift()!;
          const pending = this.markHandled(key, topic, partition, done.lastOffset, done.count, done.lag);
          if (!pending.running) this.scheduleCommit(key, pending);
        }
      },
      (err: unknown) => {
        if (p.generation !== generation) return;
        // Back to the earliest batch not yet settled, which may be before this one: once the
        // generation moves on, an earlier batch still in the handler no longer counts, so its
        // failure would go unnoticed and later commits would pass it.
        const from = p.queue[0]?.firstOffset ?? entry.firstOffset;
        p.generation++;
        p.failed = true;
        p.queue = [];
        this.logger.error({ err, topic, partition, offset: entry.firstOffset, from }, "batch handler failed: handling the partition again from the first unsettled batch");
        if (this.running) this.consumer.seek({ topic, partition, offset: from });
      },
    );
    p.handlers.add(tracked);
    void tracked.finally(() => p.handlers.delete(tracked));
    while (p.handlers.size >= maxInFlight) await Promise.race(p.handlers);
  }

  /**
   * Commits a partition's pending offset now (after the commit under way, if any). In the
   * background mode a failure is logged: the next commit supersedes it. Otherwise it throws
   * to the batch handler's caller, as an awaited commit always did.
   */
  private async flushCommit(key: string): Promise<void> {
    const p = this.commits.get(key);
    if (!p) return;
    if (p.timer) {
      clearTimeout(p.timer);
      p.timer = null;
    }
    while (p.running) await p.running;
    if (p.offset === null) return;
    const { topic, partition, offset, count, lag } = p;
    p.offset = null;
    p.count = 0;
    const consumer = this.consumer;
    const background = this.options.commitInBackground === true && this.running;
    const commit = consumer.commitOffsets([{ topic, partition, offset }]).then(() => this.options.onBatchCommitted?.({ topic, partition, count, lag }));
    p.running = commit.then(
      () => undefined,
      () => undefined,
    );
    try {
      await commit;
    } catch (err) {
      if (!background) throw err;
      this.logger.warn({ err, topic, partition }, "offset commit failed; the next one supersedes it");
    } finally {
      p.running = null;
      // Batches handled while this commit was under way wait for the next interval.
      if (p.offset !== null && this.running && this.options.commitInBackground) this.scheduleCommit(key, p);
    }
  }

  /** One timer per partition: the batches handled until it fires share a commit. */
  private scheduleCommit(key: string, p: PendingCommit): void {
    p.timer ??= setTimeout(() => {
      p.timer = null;
      void this.flushCommit(key);
    }, this.options.commitIntervalMs ?? 100);
  }

  private toConsumed(topic: string, partition: number, message: KafkaMessage, value: T): ConsumedMessage<T> {
    return {
      topic,
      partition,
      offset: message.offset,
      key: message.key ? message.key.toString("utf8") : null,
      value,
      timestamp: Number(message.timestamp),
      headers: headersToRecord(message.headers),
    };
  }

  private toDeadLetter(topic: string, partition: number, message: KafkaMessage, error: string): DeadLetter {
    return redactDeadLetter({
      v: 1,
      sourceTopic: topic,
      partition,
      offset: message.offset,
      key: message.key ? message.key.toString("utf8") : null,
      valueBase64: message.value ? message.value.toString("base64") : null,
      error: error.slice(0, 4_000),
      service: this.options.deadLetter.service,
      failedAt: Date.now(),
    });
  }
}
