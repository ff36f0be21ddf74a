import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { KafkaModuleError } from "@spam/kafka";
import { Reassembler, type AssembledMessage, type MessagePart } from "@spam/smpp-codec";
import type { WirePdu } from "./relay/downstream.js";
import type { ReceiptTarget, Relay } from "./relay/relay.js";
import type { MessageRouter } from "./router.js";

/** How an intake answers one PDU (submit_sm_resp on the server, deliver_sm_resp in client mode). */
export type Answer =
  | { readonly kind: "accepted"; readonly messageId: string }
  /** status: the SMPP status to answer with (default ESME_RX_R_APPN, the blocked-message answer). */
  | { readonly kind: "rejected"; readonly status?: number }
  | { readonly kind: "temporary"; readonly throttled: boolean };

export type Responder = (answer: Answer) => void;

interface PartMeta {
  readonly account: string;
  readonly receivedAt: number;
  readonly part: MessagePart;
  readonly respond: Responder;
  /** Answered when held, before the whole message existed. */
  acked: boolean;
  /** The id that answer carried (receipts for this part go back with it). */
  ackedId: string | null;
  /** Relay mode: the PDU as it is to be forwarded, and who gets its receipts. */
  readonly relay: RelayOrigin | null;
}

/** What relay mode needs of a PDU besides its decoded part. */
export interface RelayOrigin {
  readonly wire: WirePdu;
  readonly receipts: ReceiptTarget;
}

export interface IntakeOptions {
  readonly router: MessageRouter;
  readonly logger: Logger;
  readonly reassembly: { readonly timeoutMs: number; readonly maxPendingSets: number; readonly maxPendingBytes: number };
  readonly now?: () => number;
  /** Relay mode: traffic is held for its decision and forwarded downstream (relay/relay.ts). */
  readonly relay?: Relay | null;
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

  accept(part: MessagePart, account: string, respond: Responder, relay: RelayOrigin | null = null): void {
    if (relay && this.o.relay && !this.o.router.isReport(part.destination)) {
      // Bounded: the relay holds at most so many messages; beyond, the sender retries later.
      if (this.o.relay.full) return respond({ kind: "temporary", throttled: true });
      // Nothing is published for a message no route would take.
      const refused = this.o.relay.refuseUnrouted({ account, source: part.source, destination: part.destination, receivedAt: this.now() });
      if (refused) return respond(refused);
    }
    const meta: PartMeta = { account, receivedAt: this.now(), part, respond, acked: false, ackedId: null, relay };
    const result = this.reassembler.push(part, meta, account);
    if (result.status === "pending" || result.status === "duplicate") {
      meta.acked = true;
      meta.ackedId = randomUUID();
      respond({ kind: "accepted", messageId: meta.ackedId });
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
    const first = m.metas[0]!;
    const relay = this.o.relay && !this.o.router.isReport(m.destination) && m.metas.every((x) => x.relay !== null) ? this.o.relay : null;
    // A resend of a message the downstream deferred was published and scored the first time.
    const again = relay?.resend(first.account, m.metas.map((x) => x.relay!.wire)) ?? null;
    if (relay && again) return this.track(this.relayDecide(relay, m, again.id, again.wait));
    const id = randomUUID();
    if (m.partial) {
      this.o.logger.warn({ messageId: id, reason: m.reason, missing: m.missingParts.length, total: m.totalParts }, "publishing incomplete multipart message");
    }
    const wait = relay?.expect(id) ?? null;
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
        async (outcome) => {
          if (relay && wait) {
            if (outcome.kind === "traffic") return this.relayDecide(relay, m, id, wait);
            relay.abandon(id);
            if (outcome.kind === "blocked") {
              relay.recordBlockList({ id, account: first.account, source: m.source, destination: m.destination, receivedAt: first.receivedAt, parts: Math.max(1, m.receivedParts) });
            }
          }
          const rejected = outcome.kind === "blocked" && outcome.policy === "reject";
          for (const meta of m.metas) {
            if (!meta.acked) meta.respond(rejected ? { kind: "rejected" } : { kind: "accepted", messageId: id });
          }
        },
        (err: unknown) => {
          if (relay) relay.abandon(id);
          const throttled = err instanceof KafkaModuleError && err.code === "queue_full";
          this.o.logger.error({ err, messageId: id }, "Kafka did not accept the message: answering with a temporary error");
          this.holdAgain(m);
          for (const meta of m.metas) if (!meta.acked) meta.respond({ kind: "temporary", throttled });
        },
      );
    this.track(done);
  }

  /** Relay mode: the message waits for its decision; the PDUs not yet answered get it. */
  private async relayDecide(relay: Relay, m: AssembledMessage<PartMeta>, id: string, wait: ReturnType<Relay["expect"]>): Promise<void> {
    const first = m.metas[0]!;
    const answer = await relay
      .decide(
        {
          id,
          account: first.account,
          source: m.source,
          destination: m.destination,
          receivedAt: first.receivedAt,
          text: m.text,
          wire: m.metas.map((x) => x.relay!.wire),
          upstreamIds: m.metas.map((x) => x.ackedId ?? id),
          receipts: first.relay!.receipts,
        },
        wait,
      )
      .catch((err: unknown): Answer => {
        this.o.logger.error({ err, messageId: id }, "relay decision failed: answering with a temporary error");
        return { kind: "temporary", throttled: false };
      });
    // The upstream resends only the part it was refused: the parts it was told were OK wait for it.
    if (answer.kind === "temporary") this.holdAgain(m);
    for (const meta of m.metas) if (!meta.acked) meta.respond(answer);
  }

  /**
   * A message that was not taken (Kafka, or the downstream, said later): its parts already
   * answered OK are held again, and its set is forgotten, so the resent part completes it anew.
   */
  private holdAgain(m: AssembledMessage<PartMeta>): void {
    if (m.reference === null) return;
    this.reassembler.forgetCompleted(m.source, m.destination, m.reference, m.metas[0]!.account);
    for (const meta of m.metas) {
      if (meta.acked) for (const e of this.reassembler.push(meta.part, meta, meta.account).emitted) this.publish(e);
    }
    this.armExpiry();
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }
}
