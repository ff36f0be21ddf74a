import type { Report, Verdict } from "@spam/contracts";

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
