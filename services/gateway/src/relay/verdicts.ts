import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { z } from "zod";
import { canonicalSender, VERDICT_ACTIONS } from "@spam/contracts";
import type { Kafka } from "@spam/kafka";

/** What the relay needs of a verdict: the rest of it (contributions, timings) is never looked at. */
const VerdictForRelay = z.object({
  v: z.literal(1),
  messageId: z.string().min(1).max(128),
  kind: z.enum(["traffic", "report"]),
  source: z.string().max(64),
  action: z.enum(VERDICT_ACTIONS),
  campaignId: z.string().max(64).nullable(),
});
export type RelayVerdict = z.infer<typeof VerdictForRelay>;

const MESSAGE_ID_KEY = Buffer.from('"messageId":"');
const BLOCK_ACTION = Buffer.from('"action":"block"');

/** The verdict's message id, read without parsing the record (null when it is not there as written). */
export function messageIdOf(value: Buffer): string | null {
  const at = value.indexOf(MESSAGE_ID_KEY);
  if (at < 0) return null;
  const start = at + MESSAGE_ID_KEY.length;
  const end = value.indexOf(0x22, start);
  if (end < 0 || end - start > 128) return null;
  return value.toString("utf8", start, end);
}

export interface VerdictSource {
  /** Calls `onVerdict` once when the message's verdict arrives (until `cancel`). */
  expect(messageId: string, onVerdict: (v: RelayVerdict) => void): void;
  cancel(messageId: string): void;
  /** The sender had a block verdict within the alarm window. */
  underAlarm(source: string): boolean;
}

export interface VerdictWaiterOptions {
  readonly kafka: Kafka;
  readonly logger: Logger;
  readonly topic: string;
  /** Prefix of this instance's own consumer group (a random suffix is added: every instance reads every verdict). */
  readonly groupId: string;
  /** How long a block verdict keeps its sender under an alarm. */
  readonly alarmMs: number;
  readonly maxAlarms?: number;
  readonly now?: () => number;
}

/**
 * The verdicts topic, followed from its end by a group of this instance's own:
 * every gateway sees every verdict and matches it to the messages it holds by
 * message id. Records are parsed only as far as needed: most verdicts are for
 * messages another instance holds, or no longer holds.
 */
export class VerdictWaiter implements VerdictSource {
  private readonly waiting = new Map<string, (v: RelayVerdict) => void>();
  /** Canonical sender → time of its last block verdict; Map order is age order (re-set on refresh). */
  private readonly alarms = new Map<string, number>();
  private readonly consumer;
  private readonly log: Logger;
  private readonly now: () => number;
  invalid = 0;

  constructor(private readonly o: VerdictWaiterOptions) {
    this.now = o.now ?? Date.now;
    this.log = o.logger.child({ component: "verdict-waiter" });
    this.consumer = o.kafka.consumer({ groupId: `${o.groupId}-${randomUUID()}`, allowAutoTopicCreation: false });
  }

  get held(): number {
    return this.waiting.size;
  }

  expect(messageId: string, onVerdict: (v: RelayVerdict) => void): void {
    this.waiting.set(messageId, onVerdict);
  }

  cancel(messageId: string): void {
    this.waiting.delete(messageId);
  }

  underAlarm(source: string): boolean {
    const at = this.alarms.get(canonicalSender(source));
    return at !== undefined && this.now() - at < this.o.alarmMs;
  }

  /** Resolves once this instance's group has its partitions (verdicts from then on are seen). */
  async start(timeoutMs = 30_000): Promise<void> {
    const joined = new Promise<void>((resolve) => {
      const remove = this.consumer.on(this.consumer.events.GROUP_JOIN, () => {
        remove();
        resolve();
      });
    });
    await this.consumer.connect();
    await this.consumer.subscribe({ topic: this.o.topic, fromBeginning: false });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) this.onRecord(m.value);
      },
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        joined,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`verdicts consumer did not join within ${timeoutMs} ms`)), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }

  /** One verdict record; public for tests. */
  onRecord(value: Buffer | null): void {
    if (value === null) return;
    // Most verdicts are for messages this instance does not hold (another gateway's, or decided at
    // the deadline): skip them without parsing. JSON escapes every quote inside a string value, so
    // these byte patterns can only be the top-level key and value.
    const id = messageIdOf(value);
    const waiter = id === null ? undefined : this.waiting.get(id);
    if (!waiter && value.indexOf(BLOCK_ACTION) < 0) return;
    let json: unknown;
    try {
      json = JSON.parse(value.toString("utf8"));
    } catch {
      this.invalid++;
      return;
    }
    const parsed = VerdictForRelay.safeParse(json);
    if (!parsed.success) {
      this.invalid++;
      if (this.invalid % 1000 === 1) this.log.warn({ invalid: this.invalid }, "skipping invalid verdict records");
      return;
    }
    const v = parsed.data;
    if (v.action === "block" && v.kind === "traffic") this.raiseAlarm(v.source);
    const cb = this.waiting.get(v.messageId);
    if (cb) {
      this.waiting.delete(v.messageId);
      cb(v);
    }
  }

  private raiseAlarm(source: string): void {
    const key = canonicalSender(source);
    this.alarms.delete(key);
    this.alarms.set(key, this.now());
    const max = this.o.maxAlarms ?? 100_000;
    while (this.alarms.size > max) {
      const oldest = this.alarms.keys().next().value;
      if (oldest === undefined) break;
      this.alarms.delete(oldest);
    }
  }
}
