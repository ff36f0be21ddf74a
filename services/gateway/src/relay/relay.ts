import { randomUUID } from "node:crypto";
import type { Logger } from "pino";
import {
  blockListKey,
  canonicalSender,
  type DeliveryOutcome,
  type DeliveryReason,
  type DeliveryRecord,
  type EnforcementEvent,
  type TopicNames,
  type VerdictAction,
} from "@spam/contracts";
import type { OutgoingMessage } from "@spam/kafka";
import type { BlockList } from "../blocklist.js";
import { DownstreamLink, RouteLinks, type DownstreamReceipt, type SubmitOutcome, type WirePdu } from "./downstream.js";
import { DeferredMessages, resendDigest } from "./deferred.js";
import { findRoute, type Route } from "./routes.js";
import type { LocalDecider } from "./local-decider.js";
import type { RelayVerdict, VerdictSource } from "./verdicts.js";

/** Who gets a message's delivery receipts: the account it came from, preferably the session that sent it. */
export interface ReceiptTarget {
  readonly account: string;
  readonly sessionId: number;
}

/** One accepted, published (raw topic) traffic message waiting for its decision. */
export interface RelayMessage {
  readonly id: string;
  readonly account: string;
  readonly source: string;
  readonly destination: string;
  readonly receivedAt: number;
  /**
   * When the message was whole and published (its last part's arrival; a set held across a restart,
   * its completion): the scorer starts then, so the deadline runs from then. Default: receivedAt.
   */
  readonly wholeAt?: number;
  /** The decoded text (the local fallback scores it). */
  readonly text: string;
  /** The upstream PDUs in sequence order, as they are to be forwarded. */
  readonly wire: readonly WirePdu[];
  /** The id the upstream was (or will be) given for each part, same order. */
  readonly upstreamIds: readonly string[];
  readonly receipts: ReceiptTarget;
}

/** The relay's answer to the PDU that completed a message. */
export type RelayAnswer =
  | { readonly kind: "accepted"; readonly messageId: string }
  | { readonly kind: "rejected"; readonly status?: number }
  | { readonly kind: "temporary"; readonly throttled: boolean };

/** Which verdicts stop a message. `block`: the scorer's block, which already needs a second signal (docs/SCORING.md). `never`: watch only. */
type StopPolicy = "block" | "never";
/** At the deadline: forward (`open`), or stop a sender under an alarm (a block verdict within the alarm window). */
export type FailPolicy = "open" | "closed_under_alarm";

export interface RelayOptions {
  readonly gatewayId: string;
  readonly topics: TopicNames;
  readonly routes: readonly Route[];
  readonly verdicts: VerdictSource;
  readonly blockList: BlockList;
  readonly deadlineMs: number;
  readonly stopPolicy: StopPolicy;
  readonly failPolicy: FailPolicy;
  /** At the deadline, the gateway's own scoring (RELAY_FALLBACK=local) may still stop a message. */
  readonly local?: LocalDecider | null;
  /** Messages held at once; over it new ones are answered ESME_RTHROTTLED before anything is published. */
  readonly maxHeld: number;
  /** Receipt mappings kept (downstream id → upstream id); the oldest go first. */
  readonly maxReceipts: number;
  /** Deferred messages remembered so that a resend is not published again (count, and age in ms). */
  readonly maxDeferred?: number;
  readonly deferredTtlMs?: number;
  /** Fire and forget: records are journal, the answer does not wait for them. */
  readonly publish: (messages: readonly OutgoingMessage[]) => Promise<void>;
  /** Passes a receipt on to the upstream; false when no session of that account can take it. */
  readonly sendReceipt: (target: ReceiptTarget, upstreamId: string, pdu: DownstreamReceipt["pdu"], downstreamId: string) => boolean;
  readonly onOutcome?: (outcome: DeliveryOutcome, reason: DeliveryReason, decisionMs: number) => void;
  readonly logger: Logger;
  readonly now?: () => number;
}

interface LateWatch {
  readonly m: RelayMessage;
  readonly route: string | null;
  readonly until: number;
}

/**
 * Relay mode (services/gateway/README.md): each traffic message is held until
 * its verdict or the deadline, then forwarded downstream or stopped, and the
 * upstream's submit_sm is answered with what happened: OK with our id once the
 * downstream took it, ESME_RX_R_APPN when stopped, a temporary error when the
 * downstream could not take it. Every outcome is a delivery record.
 */
export class Relay {
  private readonly links: Map<string, RouteLinks>;
  private readonly allLinks: DownstreamLink[] = [];
  private held = 0;
  /** downstream "smsc\0id" → upstream id and where its receipt goes. Map order is age order. */
  private readonly receiptMap = new Map<string, { upstreamId: string; target: ReceiptTarget }>();
  /** Messages that failed open: their verdict, when it comes, is recorded as late_verdict. */
  private readonly late = new Map<string, LateWatch>();
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly now: () => number;
  private readonly deferred: DeferredMessages;
  receiptsUnroutable = 0;

  constructor(private readonly o: RelayOptions) {
    this.now = o.now ?? Date.now;
    this.deferred = new DeferredMessages(o.maxDeferred ?? 100_000, o.deferredTtlMs ?? 10 * 60_000, (e) => {
      if (e.verdict === null) o.verdicts.cancel(e.id);
    });
    this.links = new Map(
      o.routes.map((r) => {
        const links = r.smscs.map((s) => new DownstreamLink(s, o.logger, (rc) => this.onReceipt(rc)));
        this.allLinks.push(...links);
        return [r.name, new RouteLinks(r.name, links)];
      }),
    );
  }

  get full(): boolean {
    return this.held >= this.o.maxHeld;
  }

  get holding(): number {
    return this.held;
  }

  /**
   * Refuses at once, before anything is published, a message no route takes: counted and recorded
   * (no_route), answered ESME_RINVDSTADR. Null when a route takes it.
   */
  refuseUnrouted(m: { account: string; source: string; destination: string; receivedAt: number }): RelayAnswer | null {
    if (findRoute(this.o.routes, m.account, m.destination)) return null;
    this.record({ ...m, id: randomUUID(), text: "", wire: [], upstreamIds: [], receipts: { account: m.account, sessionId: 0 } }, null, "no_route", "no_route", null, []);
    return { kind: "rejected", status: NO_ROUTE_STATUS };
  }

  /** Bound downstream links (readiness). */
  get boundLinks(): number {
    return this.allLinks.filter((l) => l.isBound).length;
  }

  /** Receiver binds up beside transmitter links (`receiver: true`). */
  get receiverBinds(): number {
    return this.allLinks.filter((l) => l.receiverBound).length;
  }

  start(): void {
    for (const l of this.allLinks) l.start();
  }

  /** After the SMPP side drained (every held message decided): unbinds downstream. */
  async stop(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    await Promise.all(this.allLinks.map((l) => l.stop()));
  }

  /**
   * Starts waiting for a message's verdict before it is published, so a fast verdict is not
   * missed. `decide` must follow once the raw record is on Kafka (or `abandon` if it is not).
   */
  expect(messageId: string): { verdict: Promise<RelayVerdict | null>; take: (v: RelayVerdict | null) => void } {
    this.held++;
    let take!: (v: RelayVerdict | null) => void;
    const verdict = new Promise<RelayVerdict | null>((resolve) => (take = resolve));
    this.o.verdicts.expect(messageId, (v) => take(v));
    return { verdict, take };
  }

  /**
   * A resend of a message the downstream deferred: its first attempt's id, and that attempt's
   * verdict (at once when known, else when it comes). Null for anything else. Like `expect`, it
   * holds the message: `decide` must follow.
   */
  resend(
    m: { account: string; source: string; text: string; wire: readonly WirePdu[] },
  ): { id: string; wait: { verdict: Promise<RelayVerdict | null>; take: (v: RelayVerdict | null) => void } } | null {
    // Most of the time nothing is deferred: no digest for every message then.
    if (this.deferred.size === 0) return null;
    const e = this.deferred.take(resendDigest(m.account, m.wire), this.now());
    if (!e) return null;
    if (this.o.blockList.match(m.source, m.text)) {
      // Blocked since the first attempt: the router stops it as any other message (enforcement, record).
      if (e.verdict === null) this.o.verdicts.cancel(e.id);
      return null;
    }
    this.held++;
    let take!: (v: RelayVerdict | null) => void;
    const verdict = new Promise<RelayVerdict | null>((resolve) => (take = resolve));
    if (e.verdict) take(e.verdict);
    else this.o.verdicts.expect(e.id, (v) => take(v));
    return { id: e.id, wait: { verdict, take } };
  }

  /** The raw record never reached Kafka: no verdict will come. */
  abandon(messageId: string): void {
    this.o.verdicts.cancel(messageId);
    this.held--;
  }

  /** A block-list stop at the gateway (the router already published the enforcement event). */
  recordBlockList(m: Omit<RelayMessage, "wire" | "upstreamIds" | "receipts" | "text"> & { parts: number }): void {
    this.record({ ...m, text: "", wire: [], upstreamIds: [], receipts: { account: m.account, sessionId: 0 } }, null, "stopped", "blocklist", null, [], m.parts);
  }

  async decide(m: RelayMessage, wait: { verdict: Promise<RelayVerdict | null>; take: (v: RelayVerdict | null) => void }): Promise<RelayAnswer> {
    try {
      const route = findRoute(this.o.routes, m.account, m.destination);
      if (!route) {
        this.o.verdicts.cancel(m.id);
        this.record(m, null, "no_route", "no_route", null, []);
        return { kind: "rejected", status: NO_ROUTE_STATUS };
      }
      const left = (m.wholeAt ?? m.receivedAt) + this.o.deadlineMs - this.now();
      const timer = setTimeout(() => wait.take(null), Math.max(0, left));
      const verdict = await wait.verdict;
      clearTimeout(timer);
      if (verdict === null) {
        this.o.verdicts.cancel(m.id);
        if (this.o.failPolicy === "closed_under_alarm" && this.o.verdicts.underAlarm(m.source)) {
          this.record(m, route.name, "stopped", "deadline_closed", null, []);
          return { kind: "rejected" };
        }
        const local = this.o.local?.decide({ id: m.id, text: m.text, source: m.source, destination: m.destination, receivedAt: m.receivedAt });
        if (local) {
          const campaignBlocked = local.campaignId !== null && this.o.blockList.hasActive(blockListKey("fingerprint", local.campaignId));
          if (campaignBlocked || (local.action === "block" && this.o.stopPolicy === "block")) {
            // The scorer's verdict, when it comes, is recorded beside it: where the two disagree shows.
            this.watchLate(m, route.name);
            if (campaignBlocked) this.enforceCampaign(m, local.campaignId!);
            this.record(m, route.name, "stopped", campaignBlocked ? "campaign_block" : "local_block", local.action, []);
            return { kind: "rejected" };
          }
        }
        this.watchLate(m, route.name);
        return await this.forward(m, route, "deadline_open", null, null);
      }
      if (verdict.action === "block" && this.o.stopPolicy === "block") {
        this.record(m, route.name, "stopped", "block", verdict.action, []);
        return { kind: "rejected" };
      }
      if (verdict.campaignId !== null && this.o.blockList.hasActive(blockListKey("fingerprint", verdict.campaignId))) {
        this.enforceCampaign(m, verdict.campaignId);
        this.record(m, route.name, "stopped", "campaign_block", verdict.action, []);
        return { kind: "rejected" };
      }
      return await this.forward(m, route, verdict.action, verdict.action, verdict);
    } finally {
      this.held--;
    }
  }

  private async forward(m: RelayMessage, route: Route, reason: DeliveryReason, action: VerdictAction | null, verdict: RelayVerdict | null): Promise<RelayAnswer> {
    const links = this.links.get(route.name)!;
    const outcome: SubmitOutcome = await links.submit(m.wire);
    if (outcome.ok) {
      outcome.ids.forEach((downId, i) => this.mapReceipt(outcome.smsc, downId, m.upstreamIds[i] ?? m.id, m.receipts));
      this.record(m, route.name, "forwarded", reason, action, outcome.ids, undefined, outcome.smsc);
      return { kind: "accepted", messageId: m.id };
    }
    this.late.delete(m.id);
    this.remember(m, verdict);
    if (outcome.reason === "rejected") {
      this.record(m, route.name, "deferred", "unavailable", action, [], undefined, outcome.smsc);
      return { kind: "rejected", status: outcome.status };
    }
    this.record(m, route.name, "deferred", outcome.reason, action, [], undefined, outcome.smsc);
    return { kind: "temporary", throttled: outcome.reason === "throttled" };
  }

  /** A deferred message: the upstream resends it, and the resend must not count as a new message. */
  private remember(m: RelayMessage, verdict: RelayVerdict | null): void {
    const e = this.deferred.add(resendDigest(m.account, m.wire), m.id, verdict, this.now());
    if (verdict === null) this.o.verdicts.expect(m.id, (v) => (e.verdict = v));
  }

  private watchLate(m: RelayMessage, route: string): void {
    // Bounded like everything else: a verdict later than a minute is the sink's to record, not ours.
    this.late.set(m.id, { m, route, until: this.now() + 60_000 });
    if (this.late.size > this.o.maxHeld * 4) {
      const oldest = this.late.keys().next().value;
      if (oldest !== undefined) this.late.delete(oldest);
    }
    this.o.verdicts.expect(m.id, (v) => {
      const w = this.late.get(m.id);
      if (!w) return;
      this.late.delete(m.id);
      this.record(w.m, w.route, "late_verdict", v.action === "block" ? "block" : v.action, v.action, []);
    });
    for (const [id, w] of this.late) {
      if (w.until > this.now()) break;
      this.late.delete(id);
      this.o.verdicts.cancel(id);
    }
  }

  private mapReceipt(smsc: string, downId: string, upstreamId: string, target: ReceiptTarget): void {
    this.receiptMap.set(`${smsc}\u0000${downId}`, { upstreamId, target });
    if (this.receiptMap.size > this.o.maxReceipts) {
      const oldest = this.receiptMap.keys().next().value;
      if (oldest !== undefined) this.receiptMap.delete(oldest);
    }
  }

  private onReceipt(r: DownstreamReceipt): void {
    const key = `${r.smsc}\u0000${r.downstreamId}`;
    const entry = this.receiptMap.get(key);
    if (!entry) {
      this.receiptsUnroutable++;
      return;
    }
    // Intermediate receipts (ENROUTE, ACCEPTD) keep the mapping for the final one.
    const state = typeof r.pdu["message_state"] === "number" ? r.pdu["message_state"] : 2;
    if (state !== 1 && state !== 6) this.receiptMap.delete(key);
    if (!this.o.sendReceipt(entry.target, entry.upstreamId, r.pdu, r.downstreamId)) this.receiptsUnroutable++;
  }

  private enforceCampaign(m: RelayMessage, campaignId: string): void {
    const event: EnforcementEvent = {
      v: 1,
      id: randomUUID(),
      messageId: m.id,
      at: this.now(),
      gatewayId: this.o.gatewayId,
      kind: "fingerprint",
      value: campaignId,
      policy: "reject",
      source: m.source,
      destination: m.destination,
    };
    this.track(this.o.publish([{ topic: this.o.topics.enforcement, key: canonicalSender(m.source), value: event }]));
  }

  private record(
    m: RelayMessage,
    route: string | null,
    outcome: DeliveryOutcome,
    reason: DeliveryReason,
    action: VerdictAction | null,
    downstreamIds: readonly string[],
    parts = Math.max(1, m.wire.length),
    smsc: string | null = null,
  ): void {
    const at = this.now();
    const decisionMs = Math.max(0, at - m.receivedAt);
    this.o.onOutcome?.(outcome, reason, decisionMs);
    const record: DeliveryRecord = {
      v: 1,
      id: `${m.id}:${outcome}`,
      messageId: m.id,
      receivedAt: m.receivedAt,
      at,
      gatewayId: this.o.gatewayId,
      account: m.account,
      route,
      smsc,
      source: m.source,
      destination: m.destination,
      parts: Math.min(255, parts),
      outcome,
      reason,
      verdictAction: action,
      decisionMs,
      downstreamIds: [...downstreamIds],
    };
    this.track(this.o.publish([{ topic: this.o.topics.delivery, key: canonicalSender(m.source), value: record }]));
  }

  private track(p: Promise<unknown>): void {
    const t = p.catch((err: unknown) => this.o.logger.error({ err: (err as Error).message }, "delivery record not published"));
    this.inFlight.add(t);
    void t.finally(() => this.inFlight.delete(t));
  }
}

/** No route for this account and destination: SMPP's "invalid destination address". */
const NO_ROUTE_STATUS = 0x0b;
