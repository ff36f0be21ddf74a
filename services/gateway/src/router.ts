import { randomBytes, randomUUID } from "node:crypto";
import type { Logger } from "pino";
import type {
  EnforcementEvent,
  OutboundReply,
  RawMessage,
  Report,
  ReplyKind,
  TopicNames,
} from "@spam/contracts";
import { canonicalSender } from "@spam/contracts";
import type { OutgoingMessage } from "@spam/kafka";
import { decideReport, hashReporter, type PendingReportData, type PendingReports } from "@spam/report-parser";
import type { ReplyTemplates } from "@spam/replies";
import type { SenderAllowList } from "./allowlist.js";
import type { BlockList, BlockMatch } from "./blocklist.js";

/** One whole (reassembled) mobile-originated or submitted message. */
export interface InboundMessage {
  readonly id: string;
  readonly account: string;
  readonly source: string;
  readonly destination: string;
  readonly text: string;
  readonly dataCoding: number;
  readonly parts: number;
  readonly partial: boolean;
  readonly receivedAt: number;
}

export type RouteOutcome =
  | { readonly kind: "traffic" }
  | { readonly kind: "report"; readonly reportId: string; readonly status: Report["status"]; readonly reply: ReplyKind }
  | { readonly kind: "blocked"; readonly policy: "reject" | "drop"; readonly match: BlockMatch };

export interface RouterOptions {
  readonly gatewayId: string;
  readonly topics: TopicNames;
  readonly shortCodes: readonly string[];
  readonly reporterHashKey: string;
  readonly pending: PendingReports<PendingReportData>;
  readonly pendingWindowMs: number;
  readonly replies: ReplyTemplates;
  readonly allowList: SenderAllowList;
  readonly blockList: BlockList;
  readonly blockPolicy: "reject" | "drop";
  /** Resolves once Kafka acknowledged every message. */
  readonly publish: (messages: readonly OutgoingMessage[]) => Promise<void>;
  readonly logger: Logger;
  readonly now?: () => number;
}

const RAW_TEXT_MAX = 20_000;

/** Short, readable report id for the acknowledgement SMS: R + time (base36) + random. */
function newReportId(now: number): string {
  return `R${now.toString(36).toUpperCase()}${randomBytes(3).toString("hex").toUpperCase()}`;
}

/**
 * Decides what a whole message is (report, traffic, blocked) and publishes the
 * resulting records; the promise settles when Kafka acknowledged them, so the
 * SMPP side answers only then.
 */
export class MessageRouter {
  private readonly now: () => number;
  private readonly shortCodes: Set<string>;

  constructor(private readonly o: RouterOptions) {
    this.now = o.now ?? Date.now;
    this.shortCodes = new Set(o.shortCodes);
  }

  isReport(destination: string): boolean {
    return this.shortCodes.has(destination);
  }

  async route(m: InboundMessage): Promise<RouteOutcome> {
    const text = m.text.length > RAW_TEXT_MAX ? m.text.slice(0, RAW_TEXT_MAX) : m.text;
    if (this.isReport(m.destination)) return this.report({ ...m, text });
    const match = this.o.blockList.match(m.source, text);
    if (match) {
      const event: EnforcementEvent = {
        v: 1,
        id: randomUUID(),
        messageId: m.id,
        at: this.now(),
        gatewayId: this.o.gatewayId,
        kind: match.kind,
        value: match.value,
        policy: this.o.blockPolicy,
        source: m.source,
        destination: m.destination,
      };
      await this.o.publish([{ topic: this.o.topics.enforcement, key: canonicalSender(m.source), value: event }]);
      return { kind: "blocked", policy: this.o.blockPolicy, match };
    }
    const raw: RawMessage = {
      v: 1,
      id: m.id,
      receivedAt: m.receivedAt,
      gatewayId: this.o.gatewayId,
      account: m.account,
      source: m.source,
      destination: m.destination,
      text,
      dataCoding: m.dataCoding,
      parts: Math.min(Math.max(m.parts, 1), 255),
      partial: m.partial,
    };
    // Keyed by the canonical sender: one subscriber's per-sender state stays on one partition.
    await this.o.publish([{ topic: this.o.topics.trafficRaw, key: canonicalSender(m.source), value: raw }]);
    return { kind: "traffic" };
  }

  private async report(m: InboundMessage): Promise<RouteOutcome> {
    const now = this.now();
    const reporterHash = hashReporter(m.source, this.o.reporterHashKey);
    const newId = newReportId(now);
    const d = decideReport(reporterHash, m.text, newId, this.o.pending);
    const reportId = d.completesReportId ?? newId;
    const report: Report = {
      v: 1,
      id: reportId,
      messageId: m.id,
      receivedAt: m.receivedAt,
      gatewayId: this.o.gatewayId,
      shortCode: m.destination,
      reporterMsisdn: m.source,
      reporterHash,
      reportedNumber: d.reportedNumber,
      content: d.content,
      rawText: m.text,
      status: d.status,
      parseError: d.parseError,
      allowListed: d.reportedNumber !== null && this.o.allowList.has(d.reportedNumber),
      account: m.account,
    };
    const text = this.o.replies.render(d.reply, {
      reportId,
      reportedNumber: d.reportedNumber ?? "",
      shortCode: m.destination,
      windowMinutes: Math.round(this.o.pendingWindowMs / 60_000),
    });
    const reply: OutboundReply = {
      v: 1,
      id: randomUUID(),
      reportId,
      to: m.source,
      from: m.destination,
      kind: d.reply,
      text,
      createdAt: now,
    };
    // Reports are keyed by reporter hash: one reporter's two steps (same report id) stay in order
    // on one partition, so the completed step always lands after the pending one. The decider is
    // one instance (its per-sender evidence is exact there); see services/decider/README.md.
    try {
      await this.o.publish([
        { topic: this.o.topics.reports, key: reporterHash, value: report },
        { topic: this.o.topics.repliesOutbound, key: reporterHash, value: reply },
      ]);
    } catch (err) {
      // The sender will retry: put back the pending report this message had completed.
      if (d.completesReportId && d.content !== null) {
        this.o.pending.open(reporterHash, { reportId: d.completesReportId, content: d.content });
      }
      throw err;
    }
    this.o.logger.debug({ reportId, reporterHash, status: d.status }, "report accepted");
    return { kind: "report", reportId, status: d.status, reply: d.reply };
  }
}
