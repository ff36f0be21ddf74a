import { randomInt } from "node:crypto";
import type { Logger } from "pino";
import { OutboundReplyV1, type OutboundReply } from "@spam/contracts";
import type { DeadLetterTarget, Kafka } from "@spam/kafka";
import { SchemaConsumer } from "@spam/kafka";
import { chooseDataCoding, splitMessage, type SmppPdu, type SmppSession } from "@spam/smpp-codec";
import type { ReceiverSession } from "./smpp-server.js";

export interface ReplyDispatcherOptions {
  readonly kafka: Kafka;
  readonly logger: Logger;
  readonly topic: string;
  readonly groupId: string;
  readonly deadLetter: DeadLetterTarget;
  readonly receivers: () => ReceiverSession[];
  /** Replies held while no receiver is bound; beyond it the consumer stops committing and retries. */
  readonly maxWaiting?: number;
  readonly deliverTimeoutMs?: number;
}

export class NoReceiverError extends Error {
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
 * transceiver session, multipart when long.
 */
export class ReplyDispatcher {
  private readonly consumer: SchemaConsumer<OutboundReply>;
  private readonly waiting: OutboundReply[] = [];
  private readonly log: Logger;
  delivered = 0;

  constructor(private readonly o: ReplyDispatcherOptions) {
    this.log = o.logger.child({ component: "replies" });
    this.consumer = new SchemaConsumer<OutboundReply>({
      kafka: o.kafka,
      logger: o.logger,
      groupId: o.groupId,
      topics: [o.topic],
      schema: OutboundReplyV1,
      deadLetter: o.deadLetter,
      fromBeginning: false,
      handleBatch: async (messages) => {
        for (const m of messages) await this.deliverOrHold(m.value);
      },
    });
  }

  async start(): Promise<void> {
    await this.consumer.start();
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
  }

  get waitingCount(): number {
    return this.waiting.length;
  }

  /** A receiver bound: deliver what waited for one. */
  flushWaiting(): void {
    const held = this.waiting.splice(0);
    void (async () => {
      for (const r of held) await this.deliverOrHold(r).catch(() => this.waiting.push(r));
    })();
  }

  private async deliverOrHold(reply: OutboundReply): Promise<void> {
    try {
      await this.deliver(reply);
    } catch (err) {
      if (this.waiting.length >= (this.o.maxWaiting ?? 10_000)) throw err; // batch is fetched again later
      this.log.warn({ replyId: reply.id, kind: reply.kind, err: (err as Error).message }, "reply held until a receiver can take it");
      this.waiting.push(reply);
    }
  }

  async deliver(reply: OutboundReply): Promise<void> {
    const via = await deliverReply(this.o.receivers(), reply, this.o.deliverTimeoutMs ?? 10_000);
    this.delivered++;
    this.log.debug({ replyId: reply.id, kind: reply.kind, via }, "reply delivered");
  }
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
