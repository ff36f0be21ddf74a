import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { KafkaModuleError } from "@spam/kafka";
import { Reassembler, type AssembledMessage, type MessagePart } from "@spam/smpp-codec";
import type { MessageRouter } from "./router.js";

/** How an intake answers one PDU (submit_sm_resp on the server, deliver_sm_resp in client mode). */
export type Answer =
  | { readonly kind: "accepted"; readonly messageId: string }
  | { readonly kind: "rejected" }
  | { readonly kind: "temporary"; readonly throttled: boolean };

export type Responder = (answer: Answer) => void;

interface PartMeta {
  readonly account: string;
  readonly receivedAt: number;
  readonly part: MessagePart;
  readonly respond: Responder;
  /** Answered when held, before the whole message existed. */
  acked: boolean;
}

export interface IntakeOptions {
  readonly router: MessageRouter;
  readonly logger: Logger;
  readonly reassembly: { readonly timeoutMs: number; readonly maxPendingSets: number; readonly maxPendingBytes: number };
  readonly now?: () => number;
}

/**
 * From decoded PDU parts to published messages, for both SMPP roles:
 * reassembles, routes, and answers each PDU only as the rules allow: the part
 * that completes a message after Kafka acknowledged it; a part that does not
 * complete one once it is held (senders with a window of 1 wait for that
 * answer before the next part). A message that cannot be published puts its
 * already-answered parts back, so nothing answered is ever dropped.
 */
export class MessageIntake {
  private readonly reassembler: Reassembler<PartMeta>;
  private expiryTimer: NodeJS.Timeout | null = null;
  private expiryAt = Infinity;
  private readonly inFlight = new Set<Promise<void>>();
  private readonly now: () => number;

  constructor(private readonly o: IntakeOptions) {
    this.now = o.now ?? Date.now;
    this.reassembler = new Reassembler<PartMeta>({ ...o.reassembly, now: this.now });
  }

  get pendingSets(): number {
    return this.reassembler.pendingSets;
  }

  accept(part: MessagePart, account: string, respond: Responder): void {
    const meta: PartMeta = { account, receivedAt: this.now(), part, respond, acked: false };
    const result = this.reassembler.push(part, meta, account);
    if (result.status === "pending" || result.status === "duplicate") {
      meta.acked = true;
      respond({ kind: "accepted", messageId: randomUUID() });
    }
    for (const m of result.emitted) this.publish(m);
    this.armExpiry();
  }

  /** Publishes incomplete sets as partial and waits for everything in flight. */
  async close(): Promise<void> {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    for (const m of this.reassembler.flush()) this.publish(m);
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private armExpiry(): void {
    const at = this.reassembler.nextExpiryAt();
    if (at === null || at >= this.expiryAt) return;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryAt = at;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      this.expiryAt = Infinity;
      for (const m of this.reassembler.expire()) this.publish(m);
      this.armExpiry();
    }, Math.max(0, at - this.now()) + 5);
    this.expiryTimer.unref();
  }

  private publish(m: AssembledMessage<PartMeta>): void {
    const id = randomUUID();
    const first = m.metas[0]!;
    if (m.partial) {
      this.o.logger.warn({ messageId: id, reason: m.reason, missing: m.missingParts.length, total: m.totalParts }, "publishing incomplete multipart message");
    }
    const done = this.o.router
      .route({
        id,
        account: first.account,
        source: m.source,
        destination: m.destination,
        text: m.text,
        dataCoding: m.dataCoding,
        parts: m.receivedParts,
        partial: m.partial,
        receivedAt: first.receivedAt,
      })
      .then(
        (outcome) => {
          const rejected = outcome.kind === "blocked" && outcome.policy === "reject";
          for (const meta of m.metas) {
            if (!meta.acked) meta.respond(rejected ? { kind: "rejected" } : { kind: "accepted", messageId: id });
          }
        },
        (err: unknown) => {
          const throttled = err instanceof KafkaModuleError && err.code === "queue_full";
          this.o.logger.error({ err, messageId: id }, "Kafka did not accept the message: answering with a temporary error");
          // The set was never published: its parts must not count as resends of it.
          if (m.reference !== null) this.reassembler.forgetCompleted(m.source, m.destination, m.reference, first.account);
          for (const meta of m.metas) {
            if (meta.acked) {
              // Already answered: hold it again until the sender retries the rest.
              for (const e of this.reassembler.push(meta.part, meta, meta.account).emitted) this.publish(e);
            } else {
              meta.respond({ kind: "temporary", throttled });
            }
          }
          this.armExpiry();
        },
      );
    this.inFlight.add(done);
    void done.finally(() => this.inFlight.delete(done));
  }
}
