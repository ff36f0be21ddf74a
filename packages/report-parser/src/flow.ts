import type { ReplyKind, ReportStatus } from "@spam/contracts";
import type { NumberKind } from "./number.js";
import { parseReportText, type ParseErrorCode, type ParseResult } from "./parse.js";
import type { PendingReports } from "./pending.js";

/** What the gateway stores for a content-only report while it waits for the number. */
export interface PendingReportData {
  readonly reportId: string;
  readonly content: string;
}

type ReportParseError = ParseErrorCode | "number_without_pending";

/** The report fields of ReportV1 plus the reply to send. */
export interface ReportDecision {
  readonly status: ReportStatus;
  readonly reportedNumber: string | null;
  readonly content: string | null;
  readonly numberKind: NumberKind | null;
  readonly errorCode: ReportParseError | null;
  /** For ReportV1.parseError. */
  readonly parseError: string | null;
  /** Set for completed_two_step: the id of the pending report this message completes. */
  readonly completesReportId: string | null;
  readonly reply: Extract<ReplyKind, "ack" | "ask_number" | "format_help">;
  readonly parsed: ParseResult;
}

/**
 * One report message through the two-step flow (GSMA 7726 style):
 * content only → pending_number (ask for the number); a number only within the
 * window → completed_two_step; a number with nothing pending → unparseable.
 * `reportId` is the id the caller assigns to this message's report.
 */
export function decideReport(
  reporter: string,
  text: string,
  reportId: string,
  pending: PendingReports<PendingReportData>,
): ReportDecision {
  const parsed = parseReportText(text);
  const base = { numberKind: null, errorCode: null, parseError: null, completesReportId: null, parsed } as const;
  switch (parsed.status) {
    case "complete":
      return {
        ...base,
        status: "parsed",
        reportedNumber: parsed.reportedNumber,
        content: parsed.content,
        numberKind: parsed.numberKind,
        reply: "ack",
      };
    case "content_only":
      pending.open(reporter, { reportId, content: parsed.content });
      return { ...base, status: "pending_number", reportedNumber: null, content: parsed.content, reply: "ask_number" };
    case "number_only": {
      const open = pending.take(reporter);
      if (open) {
        return {
          ...base,
          status: "completed_two_step",
          reportedNumber: parsed.reportedNumber,
          content: open.data.content,
          numberKind: parsed.numberKind,
          completesReportId: open.data.reportId,
          reply: "ack",
        };
      }
      return {
        ...base,
        status: "unparseable",
        reportedNumber: parsed.reportedNumber,
        content: null,
        numberKind: parsed.numberKind,
        errorCode: "number_without_pending",
        parseError: "number_without_pending: a number alone, and no content-only report is waiting for it",
        reply: "format_help",
      };
    }
    case "error":
      return {
        ...base,
        status: "unparseable",
        reportedNumber: null,
        content: parsed.content,
        errorCode: parsed.code,
        parseError: `${parsed.code}: ${parsed.message}`.slice(0, 500),
        reply: "format_help",
      };
  }
}

/** The ReportV1 status a message gets on its own, with no pending report to complete. */
export function loneReportStatus(parsed: ParseResult): ReportStatus {
  switch (parsed.status) {
    case "complete":
      return "parsed";
    case "content_only":
      return "pending_number";
    case "number_only":
    case "error":
      return "unparseable";
  }
}
