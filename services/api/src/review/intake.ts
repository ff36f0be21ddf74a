import type { DecisionEvent, Report, Verdict } from "@spam/contracts";
import type { CaseStore, CaseUpsert, ReportUpsert } from "./cases.js";

/**
 * Which verdicts need a person: the classifier flagged them (it was not sure
 * enough to block or allow), or a commercial message the operator's policy flags. Blocked spam in a campaign still counts towards the
 * campaign case so a reviewer can confirm the campaign and its fingerprint.
 */
export function caseFromVerdict(v: Verdict): { message: CaseUpsert | null; campaign: (CaseUpsert & { campaignId: string }) | null } {
  const base: Omit<CaseUpsert, "id" | "kind" | "source"> = {
    sender: v.source,
    messageId: v.messageId,
    verdictId: v.id,
    campaignId: v.campaignId,
    category: v.category,
    modelLabel: v.label,
    modelVersion: v.modelVersion,
    score: v.score,
    text: "",
    contributions: v.contributions,
    openedAt: v.scoredAt,
  };
  if (v.kind !== "traffic") return { message: null, campaign: null };
  const message: CaseUpsert | null =
    v.action === "flag" || v.label === "suspect" ? { ...base, id: `msg:${v.messageId}`.slice(0, 128), kind: "message", source: "classifier" } : null;
  // A commercial campaign is reviewed only when the operator's policy flags or blocks commercial messages.
  const campaign =
    v.campaignId && v.label !== "ham" && !(v.label === "commercial" && v.action === "allow")
      ? { ...base, id: `cmp:${v.campaignId}`, kind: "campaign" as const, source: "campaign" as const, campaignId: v.campaignId }
      : null;
  return { message, campaign };
}

/** Reports that name a number open (or join) a report case; unparseable ones are answered by the gateway. */
export function reportUpsert(r: Report, score: number | null = null): ReportUpsert | null {
  if (!r.reportedNumber || (r.status !== "parsed" && r.status !== "completed_two_step")) return null;
  return {
    reportId: r.id,
    reporterHash: r.reporterHash,
    reportedNumber: r.reportedNumber,
    content: r.content,
    status: r.status,
    receivedAt: r.receivedAt,
    verification: "unverified",
    allowListed: r.allowListed,
    score,
  };
}

/** Texts of traffic messages are not in verdicts; the intake looks them up where it can. */
export interface TextLookup {
  textOf(messageId: string): string | undefined;
}

export async function ingestVerdicts(store: CaseStore, verdicts: readonly Verdict[], texts?: TextLookup): Promise<number> {
  let opened = 0;
  const late: Array<readonly [string, string]> = [];
  for (const v of verdicts) {
    const { message, campaign } = caseFromVerdict(v);
    const text = texts?.textOf(v.messageId) ?? "";
    if (message) {
      await store.upsertCase({ ...message, text });
      opened++;
    }
    if (campaign) await store.addCampaignMember({ ...campaign, text });
    // Read while the case was being written: the raw reader's fill ran before the case existed.
    const arrived = text === "" && (message || campaign) ? texts?.textOf(v.messageId) : undefined;
    if (arrived) late.push([v.messageId, arrived]);
  }
  if (late.length > 0) await store.fillTexts(late);
  return opened;
}

export async function ingestReports(store: CaseStore, reports: readonly Report[]): Promise<number> {
  let n = 0;
  for (const r of reports) {
    const u = reportUpsert(r);
    if (u) {
      await store.addReport(u);
      n++;
    }
  }
  return n;
}

/**
 * Decider events (sms.decisions): its report/campaign cases, the reports it
 * assessed, and the outcomes it sent. Texts come from the caches the intake keeps
 * (report content by report id, delivered message text by message id).
 */
export async function ingestDecisionEvents(
  store: CaseStore,
  events: readonly DecisionEvent[],
  texts?: { reportContent(reportId: string): string | undefined; messageText(messageId: string): string | undefined },
): Promise<void> {
  for (const e of events) {
    if (e.type === "case") await store.applyDeciderCase(e);
    else if (e.type === "report_assessed") {
      const matched = e.matchedMessageId ? (texts?.messageText(e.matchedMessageId) ?? null) : null;
      await store.applyReportAssessed(e, texts?.reportContent(e.reportId) ?? null, matched);
      // The matched message's text, read while the case was being written (see ingestVerdicts).
      const arrived = e.matchedMessageId && matched === null ? texts?.messageText(e.matchedMessageId) : undefined;
      if (arrived) await store.fillTexts([[e.matchedMessageId!, arrived]]);
    } else if (e.type === "report_outcome") await store.applyReportOutcome(e);
  }
}
