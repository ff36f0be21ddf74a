import { newCaseId, type CaseEvent, type Report, type ReportAssessed, type Verdict } from "@spam/contracts";

let seq = 0;
const next = () => `${Date.now().toString(36)}${(seq++).toString(36)}`;

/** A flagged traffic verdict as the scoring worker publishes it. */
export function flaggedVerdict(over: Partial<Verdict> = {}): Verdict {
  const id = next();
  const now = Date.now();
  return {
    v: 1,
    id: `v-${id}`,
    messageId: `m-${id}`,
    kind: "traffic",
    receivedAt: now - 1000,
    scoredAt: now,
    source: "13800138000",
    destination: "13900139000",
    score: 0.6,
    label: "suspect",
    category: "fraud",
    action: "flag",
    contributions: [
      { source: "rule", id: "fraud.refund", score: 0.4, category: "fraud", detail: "退款 + 客服" },
      { source: "model", id: "nb-v1", score: 0.2, category: "fraud", detail: null },
    ],
    campaignId: null,
    rulesetVersion: "r1",
    modelVersion: "m1",
    timingsUs: { total: 120 },
    ...over,
  };
}

export function parsedReport(over: Partial<Report> = {}): Report {
  const id = next();
  return {
    v: 1,
    id: `r-${id}`,
    messageId: `rm-${id}`,
    receivedAt: Date.now(),
    gatewayId: "gw1",
    shortCode: "10086999",
    reporterMsisdn: "13700137000",
    reporterHash: `h-${id}`,
    reportedNumber: "13800138000",
    content: "您的快递丢失，请联系客服 4001234567 办理退款",
    rawText: "13800138000*您的快递丢失，请联系客服 4001234567 办理退款",
    status: "parsed",
    parseError: null,
    allowListed: false,
    ...over,
  };
}

/** A decider case event (issue 5) for a sender, open and waiting for review unless overridden. */
export function deciderCase(over: Partial<CaseEvent> = {}): CaseEvent {
  const now = Date.now();
  const caseId = over.caseId ?? newCaseId();
  return {
    v: 1,
    type: "case",
    id: `${caseId}-v${over.version ?? 1}`,
    caseId,
    version: 1,
    subjectKind: "sender",
    subject: "13800138000",
    state: "open",
    decision: "pending",
    decidedBy: null,
    reason: "verified reports below the auto-block bar",
    rule: "review",
    evidence: {
      reportIds: [], verdictIds: [], reportCount: 1, verifiedCount: 1, fabricatedCount: 0, distinctVerifiedReporters: 1,
      weightedReporters: 0.5, classifierAgreement: 1, maxScore: 0.62, brigadingSuspected: false, windowHours: 24,
    },
    allowListed: false,
    openedAt: now,
    updatedAt: now,
    decidedAt: null,
    slaDueAt: now + 48 * 3_600_000,
    slaBreached: false,
    ...over,
  };
}

export function reportAssessed(over: Partial<ReportAssessed> = {}): ReportAssessed {
  const id = next();
  return {
    v: 1,
    type: "report_assessed",
    id: `ra-${id}`,
    reportId: `r-${id}`,
    reportedNumber: "13800138000",
    reporterHash: `h-${id}`,
    reportReceivedAt: Date.now(),
    assessedAt: Date.now(),
    verification: "verified",
    matchedMessageId: null,
    similarity: 0.93,
    caseId: null,
    reporterReputation: 0.5,
    reporterHistory: 0,
    allowListed: false,
    campaignId: null,
    verdictLabel: "spam",
    ...over,
  };
}
