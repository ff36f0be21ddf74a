import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import { KafkaModuleError } from "@spam/kafka";
import { Reassembler, type AssembledMessage, type MessagePart } from "@spam/smpp-codec";
import type { WirePdu } from "./relay/downstream.js";
import type { HeldPart, RelayJournal } from "./relay/journal.js";
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
  /** Relay mode, a held part: its journal key, and its journal write (settled). */
  journalKey: string | null;
  journaled: Promise<void> | null;
  /** In the reassembler, waiting for the rest of its message. */
  held: boolean;
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
  /** Relay mode: parts answered OK while held are journaled on Kafka first (relay/journal.ts). */
  readonly journal?: RelayJournal | null;
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
  /** Held parts whose journal write failed (answered with a temporary error): their resend writes it again. */
  private readonly unjournaled = new Map<string, PartMeta>();

  constructor(private readonly o: IntakeOptions) {
    this.now = o.now ?? Date.now;
    this.reassembler = new Reassembler<PartMeta>({ ...o.reassembly, now: this.now });
  }

  get pendingSets(): number {
    return this.reassembler.pendingSets;
  }

  accept(part: MessagePart, account: string, respond: Responder, relay: RelayOrigin | null = null): void {
    const relayed = relay !== null && !!this.o.relay && !this.o.router.isReport(part.destination);
    if (relayed && this.o.relay) {
      // Bounded: the relay holds at most so many messages; beyond, the sender retries later.
      if (this.o.relay.full) return respond({ kind: "temporary", throttled: true });
      // Nothing is published for a message no route would take.
      const refused = this.o.relay.refuseUnrouted({ account, source: part.source, destination: part.destination, receivedAt: this.now() });
      if (refused) return respond(refused);
    }
    const meta: PartMeta = { account, receivedAt: this.now(), part, respond, acked: false, ackedId: null, relay, journalKey: null, journaled: null, held: false };
    const result = this.reassembler.push(part, meta, account);
    if (result.status === "pending" || result.status === "duplicate") {
      meta.held = result.status === "pending";
      meta.acked = true;
      meta.ackedId = randomUUID();
      const journal = relayed ? this.o.journal : null;
      const unjournaled = journal && result.status === "duplicate" ? this.unjournaled.get(journal.key(account, part)) : undefined;
      if (journal && result.status === "pending") this.journalHeld(journal, meta, respond);
      else if (journal && unjournaled) this.journalHeld(journal, unjournaled, respond);
      else respond({ kind: "accepted", messageId: meta.ackedId });
    }
    for (const m of result.emitted) this.publish(m);
    this.armExpiry();
  }

  /**
   * Relay mode: holds again the parts a previous run of this gateway journaled and never decided
   * (relay/journal.ts), as parts already answered OK. Call before serving.
   */
  restore(parts: readonly HeldPart[]): void {
    const journal = this.o.journal;
    if (!journal) return;
    for (const h of parts) {
      const meta: PartMeta = {
        account: h.account,
        receivedAt: h.receivedAt,
        part: h.part,
        respond: () => undefined,
        acked: true,
        ackedId: h.ackedId,
        relay: { wire: h.wire, receipts: h.receipts },
        journalKey: journal.key(h.account, h.part),
        journaled: Promise.resolve(),
        held: true,
      };
      for (const m of this.reassembler.push(h.part, meta, h.account).emitted) this.publish(m);
    }
    this.armExpiry();
  }

  /** A held part is answered OK only once Kafka has its journal record: a SIGKILL then cannot lose it. */
  private journalHeld(journal: RelayJournal, meta: PartMeta, respond: Responder): void {
    const key = journal.key(meta.account, meta.part);
    meta.journalKey = key;
    this.unjournaled.delete(key);
    const written = journal.hold({ account: meta.account, receivedAt: meta.receivedAt, part: meta.part, ackedId: meta.ackedId!, wire: meta.relay!.wire, receipts: meta.relay!.receipts });
    meta.journaled = written.catch(() => undefined);
    written.then(
      () => respond({ kind: "accepted", messageId: meta.ackedId! }),
      (err: unknown) => {
        this.o.logger.error({ err }, "held part not journaled: answering with a temporary error");
        // Still held: its resend writes it again. Already published: its message was decided without it.
        if (meta.held) this.unjournaled.set(key, meta);
        respond({ kind: "temporary", throttled: err instanceof KafkaModuleError && err.code === "queue_full" });
      },
    );
  }

  /** The message is decided (forwarded or stopped): its parts leave the journal. */
  private release(m: AssembledMessage<PartMeta>): void {
    const journal = this.o.journal;
    const metas = m.metas.filter((x) => x.journalKey !== null);
    if (!journal || metas.length === 0) return;
    const keys = metas.map((x) => x.journalKey!);
    // After the holds themselves, or a tombstone could overtake its record.
    this.track(
      Promise.all(metas.map((x) => x.journaled))
        .then(() => journal.release(keys))
        .catch((err: unknown) => this.o.logger.warn({ err, parts: keys.length }, "journal tombstones not published: a restart forwards these parts again")),
    );
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
    const wholeAt = this.now();
    for (const x of m.metas) {
      x.held = false;
      if (x.journalKey !== null) this.unjournaled.delete(x.journalKey);
    }
    const relay = this.o.relay && !this.o.router.isReport(m.destination) && m.metas.every((x) => x.relay !== null) ? this.o.relay : null;
    // A resend of a message the downstream deferred was published and scored the first time.
    const again = relay?.resend({ account: first.account, source: m.source, text: m.text, wire: m.metas.map((x) => x.relay!.wire) }) ?? null;
    if (relay && again) return this.track(this.relayDecide(relay, m, again.id, again.wait, wholeAt));
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
            if (outcome.kind === "traffic") return this.relayDecide(relay, m, id, wait, wholeAt);
            relay.abandon(id);
            this.release(m);
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
  private async relayDecide(relay: Relay, m: AssembledMessage<PartMeta>, id: string, wait: ReturnType<Relay["expect"]>, wholeAt: number): Promise<void> {
    const first = m.metas[0]!;
    const answer = await relay
      .decide(
        {
          id,
          account: first.account,
          source: m.source,
          destination: m.destination,
          receivedAt: first.receivedAt,
          wholeAt,
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
    else this.release(m);
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
      if (!meta.acked) continue;
      meta.held = true;
      for (const e of this.reassembler.push(meta.part, meta, meta.account).emitted) this.publish(e);
    }
    this.armExpiry();
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }
}
