import { randomInt } from "node:crypto";
import type { Logger } from "pino";
import { OutboundReplyV1, type OutboundReply } from "@spam/contracts";
import type { BatchContext, DeadLetterTarget, Kafka } from "@spam/kafka";
import { SchemaConsumer } from "@spam/kafka";
import { chooseDataCoding, splitMessage, type SmppPdu, type SmppSession } from "@spam/smpp-codec";
import type { ReceiverSession } from "./smpp-server.js";

export interface ReplyDispatcherOptions {
  readonly kafka: Kafka;
  readonly logger: Logger;
  readonly topic: string;
  readonly groupId: string;
  /** The group's id before a rename (see SchemaConsumerOptions.formerGroupId). */
  readonly formerGroupId?: string;
  readonly deadLetter: DeadLetterTarget;
  /** Sessions that may carry a reply to this recipient (reply links only). */
  readonly receivers: (to: string) => ReceiverSession[];
  /**
   * How long one reply waits for a receiver that can take it. After that the
   * batch fails uncommitted and Kafka hands it over again later: a reply is never
   * held only in memory, so a crash cannot lose it.
   */
  readonly maxWaitMs?: number;
  readonly deliverTimeoutMs?: number;
  /**
   * Recipients served at once within a batch (each recipient's replies stay in order).
   * One at a time, a round trip per reply capped acknowledgements at a few dozen a
   * second and left them tens of seconds behind under load.
   */
  readonly maxRecipientsInFlight?: number;
}

class NoReceiverError extends Error {
  override readonly name = "NoReceiverError";
}

function sendPart(session: SmppSession, command: string, fields: Record<string, unknown>, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command}_resp timed out`)), timeoutMs);
    const send = session[command] as (o: Record<string, unknown>, cb: (resp: SmppPdu) => void) => boolean;
    const ok = send.call(session, fields, (resp) => {
      clearTimeout(timer);
      if (resp.command_status === 0) resolve();
      else reject(new Error(`${command}_resp status ${resp.command_status}`));
    });
    if (!ok) {
      clearTimeout(timer);
      reject(new Error("session not writable"));
    }
  });
}

/**
 * Takes replies (acknowledgements, questions, outcomes) from the outbound
 * replies topic and delivers them as deliver_sm through a bound receiver or
 * transceiver session (submit_sm upstream in client mode), multipart when long.
 * Offsets are committed only after delivery (at-least-once).
 */
export class ReplyDispatcher {
  private readonly consumer: SchemaConsumer<OutboundReply>;
  private readonly log: Logger;
  private readonly wakers = new Set<() => void>();
  delivered = 0;

  constructor(private readonly o: ReplyDispatcherOptions) {
    this.log = o.logger.child({ component: "replies" });
    this.consumer = new SchemaConsumer<OutboundReply>({
      kafka: o.kafka,
      logger: o.logger,
      groupId: o.groupId,
      ...(o.formerGroupId ? { formerGroupId: o.formerGroupId } : {}),
      topics: [o.topic],
      schema: OutboundReplyV1,
      deadLetter: o.deadLetter,
      fromBeginning: false,
      handleBatch: (messages, ctx) =>
        deliverInLanes(
          messages.map((m) => m.value),
          o.maxRecipientsInFlight ?? 64,
          (reply) => this.deliverWaiting(reply, ctx),
        ),
    });
  }

  async start(): Promise<void> {
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    this.wakeAll();
    await this.consumer.stop();
  }

  /** A receiver bound: retry at once instead of at the next poll. */
  receiverBound(): void {
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const wake of [...this.wakers]) wake();
  }

  private async deliverWaiting(reply: OutboundReply, ctx: BatchContext): Promise<void> {
    const deadline = Date.now() + (this.o.maxWaitMs ?? 30_000);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.deliver(reply);
        return;
      } catch (err) {
        if (Date.now() >= deadline || !ctx.isRunning()) throw err;
        if (attempt === 1) this.log.warn({ replyId: reply.id, kind: reply.kind, err: (err as Error).message }, "reply waiting for a receiver");
        await new Promise<void>((resolve) => {
          const wake = () => {
            clearTimeout(t);
            this.wakers.delete(wake);
            resolve();
          };
          const t = setTimeout(wake, Math.min(1_000, 100 * attempt));
          this.wakers.add(wake);
        });
        await ctx.heartbeat();
      }
    }
  }

  async deliver(reply: OutboundReply): Promise<void> {
    const via = await deliverReply(this.o.receivers(reply.to), reply, this.o.deliverTimeoutMs ?? 10_000);
    this.delivered++;
    this.log.debug({ replyId: reply.id, kind: reply.kind, via }, "reply delivered");
  }
}

/**
 * Delivers a batch of replies with up to `lanes` recipients in flight at once; each
 * recipient's replies go in their order (an acknowledgement before its outcome).
 * Rejects with the first failure once every lane has stopped.
 */
export async function deliverInLanes(
  replies: readonly OutboundReply[],
  lanes: number,
  deliver: (reply: OutboundReply) => Promise<void>,
): Promise<void> {
  const byRecipient = new Map<string, OutboundReply[]>();
  for (const reply of replies) {
    const list = byRecipient.get(reply.to);
    if (list) list.push(reply);
    else byRecipient.set(reply.to, [reply]);
  }
  const queues = [...byRecipient.values()].reverse();
  let failed = false;
  const lane = async () => {
    for (let next = queues.pop(); next && !failed; next = queues.pop()) {
      for (const reply of next) {
        try {
          await deliver(reply);
        } catch (err) {
          failed = true; // the batch is refetched: no point starting more recipients
          throw err;
        }
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.max(1, Math.min(lanes, queues.length)) }, lane));
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (rejected) throw rejected.reason;
}

/**
 * Sends one reply through the first receiver that takes it: deliver_sm to a
 * bound ESME, or submit_sm to the upstream SMSC in client mode; multipart (UDH)
 * when long, GSM when it fits, otherwise UCS-2. Returns the system_id used.
 */
export async function deliverReply(receivers: readonly ReceiverSession[], reply: OutboundReply, timeoutMs: number): Promise<string> {
  if (receivers.length === 0) throw new NoReceiverError("no receiver or transceiver session is bound");
  const parts = splitMessage(reply.text, { dataCoding: chooseDataCoding(reply.text), concat: "udh8", reference: randomInt(256) });
  let lastError: unknown;
  for (const r of receivers) {
    try {
      for (const p of parts) {
        await sendPart(r.session, r.command, { ...p, source_addr: reply.from, destination_addr: reply.to, registered_delivery: 0 }, timeoutMs);
      }
      return r.systemId;
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
