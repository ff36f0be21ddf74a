import { z } from "zod";
import { ContributionV1 } from "@spam/contracts";
import type { Role } from "../auth/users.js";
import { mayReveal, present, presentNullable } from "@spam/privacy";
import type { CaseRow, MessageRow, ReportRow } from "./rows.js";
import { extractDomains } from "./effects.js";

/** What a client sees of a case: numbers masked, ham text withheld. */
export const CaseSummary = z.object({
  id: z.string(),
  kind: z.enum(["message", "report", "campaign"]),
  subjectKind: z.enum(["sender", "campaign"]).describe("what the case is about: one case per sender number or campaign fingerprint"),
  source: z.enum(["classifier", "report", "campaign"]),
  sender: z.string().describe("masked"),
  campaignId: z.string().nullable(),
  category: z.string().nullable(),
  modelLabel: z.string().nullable(),
  modelVersion: z.string().nullable().describe("the model version whose verdict flagged the case's latest message"),
  score: z.number(),
  recipients: z.number().int(),
  reports: z.number().int(),
  openedAt: z.string(),
  ageHours: z.number(),
  slaRemainingHours: z.number().nullable().describe("for cases with reports: hours left of the reply promise"),
  priority: z.number().nullable(),
  status: z.enum(["open", "escalated", "decided"]),
  claimedBy: z.string().nullable(),
  claimExpires: z.string().nullable(),
  preview: z.string().nullable().describe("masked text preview; null when withheld"),
  closedReason: z.string().nullable().describe("why a case closed without a review of its own: a reason code (policy.<rule>, campaign_decided, senders_blocked)"),
});
export type CaseSummary = z.infer<typeof CaseSummary>;

const ReportView = z.object({
  reportId: z.string(),
  reporter: z.string(),
  reportedNumber: z.string().nullable(),
  content: z.string().nullable(),
  verification: z.string(),
  receivedAt: z.string(),
  repliedAt: z.string().nullable(),
  outcome: z.string().nullable(),
});

export const CaseDetail = CaseSummary.extend({
  text: z.string().nullable(),
  textWithheld: z.boolean(),
  canRevealText: z.boolean(),
  contributions: z.array(ContributionV1),
  samples: z.array(z.string()),
  decision: z
    .object({ label: z.string(), category: z.string().nullable(), comment: z.string().nullable(), by: z.string().nullable(), at: z.string().nullable() })
    .nullable(),
  reportList: z.array(ReportView),
  messageList: z
    .array(z.object({ messageId: z.string(), score: z.number(), category: z.string().nullable(), text: z.string().nullable(), flaggedAt: z.string() }))
    .describe("flagged single messages of the sender inside this case"),
  campaign: z.object({ id: z.string(), members: z.number().int(), open: z.number().int(), samples: z.array(z.string()) }).nullable(),
  senderHistory: z.array(z.object({ id: z.string(), kind: z.string(), status: z.string(), decision: z.string().nullable(), openedAt: z.string(), category: z.string().nullable() })),
  claimedByMe: z.boolean(),
  domainsToBlock: z.array(z.string()).describe("the domains a spam decision on this case blocks (empty while the text is withheld)"),
});
export type CaseDetail = z.infer<typeof CaseDetail>;

/** Ham (by decision, or by the model when nobody has overruled it) is private correspondence. */
function isHam(c: Pick<CaseRow, "decision" | "model_label">): boolean {
  return c.decision === "ham" || (c.model_label === "ham" && c.decision !== "spam");
}

function canReadText(c: Pick<CaseRow, "decision" | "model_label">): boolean {
  return !isHam(c);
}

/** The longest rule or model detail a contribution may carry (ContributionV1). */
const DETAIL_MAX = 500;

/**
 * Everything below goes through @spam/privacy's policy for the caller's role: numbers masked in every
 * field, and where the text is withheld (ham) so is every detail that quotes it.
 */
export function summarize(c: CaseRow, slaHours: number, now = Date.now(), role: Role = "analyst"): CaseSummary {
  const since = Date.parse(c.first_report_at ?? c.opened_at);
  const ageHours = Math.max(0, (now - since) / 3_600_000);
  const visible = canReadText(c);
  const rawPreview = c.kind === "campaign" ? (c.samples[0] ?? c.text) : c.text;
  return {
    id: c.id,
    kind: c.kind,
    subjectKind: c.subject_kind,
    source: c.source,
    sender: present(role, "number", c.sender) ?? "",
    campaignId: c.campaign_id,
    category: c.decision_category ?? c.category,
    modelLabel: c.model_label,
    modelVersion: c.model_version,
    score: c.score,
    recipients: c.recipients,
    reports: c.report_count,
    openedAt: c.opened_at,
    ageHours: Math.round(ageHours * 10) / 10,
    slaRemainingHours: c.first_report_at ? Math.round((slaHours - ageHours) * 10) / 10 : null,
    priority: c.priority ?? null,
    status: c.status,
    claimedBy: c.claim_expires && Date.parse(c.claim_expires) > now ? (c.claimed_by_name ?? null) : null,
    claimExpires: c.claim_expires,
    preview: presentNullable(role, "text", rawPreview.slice(0, 1_000), { textWithheld: !visible })?.slice(0, 140) ?? null,
    closedReason: c.closed_reason ?? null,
  };
}

export function detail(
  c: CaseRow,
  ctx: {
    role: Role;
    userId: number;
    slaHours: number;
    reports: ReportRow[];
    messages?: readonly MessageRow[];
    campaign: { total: number; open: number; samples: Pick<CaseRow, "text" | "decision" | "model_label">[]; legitimateTexts?: readonly string[] } | null;
    history: CaseRow[];
  },
): CaseDetail {
  const visible = canReadText(c);
  const hidden = { textWithheld: !visible };
  const { role } = ctx;
  const claimedByMe = c.claimed_by === ctx.userId && c.claim_expires !== null && Date.parse(c.claim_expires) > Date.now();
  // Texts of campaign members later judged legitimate are private correspondence: never shown as samples.
  const legitimate = new Set(ctx.campaign?.legitimateTexts ?? []);
  const samples = c.samples.filter((t) => !legitimate.has(t));
  const maskSamples = (texts: readonly string[]) => (visible ? texts.map((t) => present(role, "text", t) ?? "") : []);
  return {
    ...summarize(c, ctx.slaHours, Date.now(), role),
    text: presentNullable(role, "text", c.kind === "campaign" && legitimate.has(c.text) ? (samples[0] ?? "") : c.text, hidden),
    textWithheld: !visible,
    canRevealText: !visible && mayReveal(role),
    contributions: [...c.contributions]
      .sort((a, b) => Math.abs(b.score) - Math.abs(a.score))
      .map((x) => ({ ...x, detail: presentNullable(role, "detail", x.detail, hidden)?.slice(0, DETAIL_MAX) ?? null })),
    samples: maskSamples(samples),
    decision: c.decision
      ? { label: c.decision, category: c.decision_category, comment: presentNullable(role, "note", c.decision_comment), by: c.decided_by_name ?? null, at: c.decided_at }
      : null,
    reportList: ctx.reports.map((r) => ({
      reportId: r.report_id,
      // Reporters' numbers stay in the restricted contact store; a reviewer tells reporters apart by hash.
      reporter: `#${r.reporter_hash.slice(0, 10)}`,
      reportedNumber: presentNullable(role, "number", r.reported_number),
      content: presentNullable(role, "text", r.content, hidden),
      verification: r.verification,
      receivedAt: r.received_at,
      repliedAt: r.replied_at,
      outcome: r.outcome,
    })),
    messageList: (ctx.messages ?? []).map((m) => ({
      messageId: m.message_id,
      score: m.score,
      category: m.category,
      text: presentNullable(role, "text", m.text, { textWithheld: !visible || isHam({ decision: c.decision, model_label: m.model_label }) }),
      flaggedAt: m.flagged_at,
    })),
    campaign:
      c.campaign_id && ctx.campaign
        ? {
            id: c.campaign_id,
            members: Math.max(ctx.campaign.total, c.kind === "campaign" ? c.recipients : 0),
            open: ctx.campaign.open,
            samples: maskSamples([...samples, ...ctx.campaign.samples.filter(canReadText).map((s) => s.text)].slice(0, 5)),
          }
        : null,
    senderHistory: ctx.history.map((h) => ({
      id: h.id,
      kind: h.kind,
      status: h.status,
      decision: h.decision,
      openedAt: h.opened_at,
      category: h.decision_category ?? h.category,
    })),
    claimedByMe,
    domainsToBlock: visible ? extractDomains(c.text) : [],
  };
}
