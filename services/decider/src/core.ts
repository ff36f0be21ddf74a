import type {
  BlockListEntry,
  CaseDecision,
  CaseEvent,
  CaseEvidence,
  DecisionEvent,
  OutboundReply,
  ReportOutcome,
  ReportVerification,
  ReviewLabel,
  VerdictLabel,
} from "@spam/contracts";
import { blockListKey, newCaseId } from "@spam/contracts";
import { outcomeReplyKind, type OutcomeReplyKind } from "@spam/replies";
import type { Policy } from "./policy.js";
import { numberVariants, senderKey } from "./similarity.js";

const HOUR = 3_600_000;

/** The verdict of the delivered message a report matched. */
export interface MatchedVerdict {
  readonly verdictId: string;
  readonly label: VerdictLabel;
  readonly score: number;
  readonly campaignId: string | null;
  readonly ruleIds: readonly string[];
}

/** A report after verification against delivered traffic. */
export interface AssessedReport {
  readonly reportId: string;
  readonly reportedNumber: string;
  readonly reporterHash: string;
  /** Only for the outcome reply; never leaves the decider except on the replies topic. */
  readonly reporterMsisdn: string;
  readonly shortCode: string;
  readonly receivedAt: number;
  readonly allowListed: boolean;
  readonly verification: ReportVerification;
  readonly matchedMessageId: string | null;
  readonly similarity: number | null;
  readonly verdict: MatchedVerdict | null;
}

/** What the decider keeps of a traffic verdict (sms.verdicts): enough to judge the sender's velocity. */
export interface SenderVerdict {
  readonly verdictId: string;
  readonly source: string;
  readonly label: VerdictLabel;
  readonly score: number;
  readonly ruleIds: readonly string[];
  readonly receivedAt: number;
}

/** Senders whose latest velocity evidence is remembered; the oldest go first beyond this. */
const MAX_VELOCITY_SENDERS = 200_000;

interface WindowReport extends AssessedReport {
  readonly reputation: number;
  readonly newReporter: boolean;
}

interface CaseState {
  readonly caseId: string;
  readonly subject: string;
  version: number;
  state: "open" | "decided";
  decision: CaseDecision;
  decidedBy: string | null;
  reason: string;
  rule: string;
  evidence: CaseEvidence;
  allowListed: boolean;
  readonly openedAt: number;
  updatedAt: number;
  decidedAt: number | null;
  slaDueAt: number;
  slaBreached: boolean;
  /** Reports waiting for this case's outcome. */
  readonly reports: Map<string, AssessedReport>;
}

export interface ReputationRecord {
  upheld: number;
  rejected: number;
}

export interface DeciderOutput {
  readonly decisions: DecisionEvent[];
  readonly replies: OutboundReply[];
  readonly blocks: BlockListEntry[];
}

export type RenderReply = (kind: OutcomeReplyKind, vars: { reportId: string; reportedNumber: string }) => string;

/**
 * Why the decider decided or opened a case: a code, never a sentence, so the console renders it in the
 * reviewer's language (its i18n has `reason.policy.<code>`); the figures behind it are in the evidence.
 */
export const REASON_CODES = [
  "verified_reporters",
  "velocity_high_score",
  "sender_blocked",
  "allow_listed_review",
  "brigading_review",
  "review",
  "reviewed_spam",
  "reviewed_not_spam",
  "reviewed_escalated",
  "lifted_on_review",
] as const;

const empty = (): DeciderOutput => ({ decisions: [], replies: [], blocks: [] });

/** The verdict a velocity block rests on belongs to its evidence, also when no report matched it. */
const withVerdict = (e: CaseEvidence, verdictId: string): CaseEvidence => ({ ...e, verdictIds: [...new Set([...e.verdictIds, verdictId])].slice(-1000) });

/**
 * The decision core: per-sender report windows, cases, reporter reputation
 * and block-list versions, all in memory. Pure apart from the clock, so the
 * policy is tested without Kafka. State is per reported number, and reports
 * are keyed by reported number on Kafka, so each decider instance owns the
 * senders of its partitions; `restore*` rebuilds it from ClickHouse at start.
 */
const SPAM_LABEL_JSON = Buffer.from(JSON.stringify("spam" satisfies VerdictLabel));

/**
 * A look at a verdict record's bytes before it is parsed: only a spam verdict can be velocity evidence
 * (isVelocityHit), and a spam verdict's JSON holds `"spam"` as our scorer writes it (JSON.stringify,
 * never an escaped form). Cheap next to parsing and validating each of the traffic's verdicts.
 */
export function mayBeVelocityEvidence(record: Buffer): boolean {
  return record.includes(SPAM_LABEL_JSON);
}

export class DeciderCore {
  private readonly windows = new Map<string, WindowReport[]>();
  private readonly openCases = new Map<string, CaseState>(); // by subject
  private readonly casesById = new Map<string, CaseState>();
  private readonly reputations = new Map<string, ReputationRecord>();
  private readonly blocks = new Map<string, BlockListEntry>();
  private readonly blockingCase = new Map<string, string>(); // sender → id of the case that blocked it
  /** senderKey → the sender's latest velocity verdict in the window, oldest first (insertion order). */
  private readonly velocity = new Map<string, SenderVerdict>();

  constructor(
    private readonly policy: Policy,
    private readonly render: RenderReply,
  ) {}

  // ---- state from outside ----

  /** The latest block-list entry per key (from the compacted topic). */
  applyBlock(entry: BlockListEntry): void {
    const key = blockListKey(entry.kind, entry.value);
    const known = this.blocks.get(key);
    if (!known || known.version <= entry.version) this.blocks.set(key, entry);
  }

  restoreReputation(reporterHash: string, record: ReputationRecord): void {
    this.reputations.set(reporterHash, { ...record });
  }

  /** An open case and its undecided reports, from ClickHouse at start. */
  restoreCase(event: CaseEvent, reports: readonly AssessedReport[]): void {
    const c: CaseState = { ...event, reports: new Map(reports.map((r) => [r.reportId, r])) };
    this.casesById.set(c.caseId, c);
    if (c.state === "open") this.openCases.set(c.subject, c);
    for (const r of reports) this.addToWindow(r);
  }

  /** Remembers a sender's velocity verdict (newest wins); false when it is none or out of the window. */
  restoreVerdict(verdict: SenderVerdict, now: number): boolean {
    if (!this.isVelocityHit(verdict) || verdict.receivedAt < now - this.policy.windowHours * HOUR) return false;
    const key = senderKey(verdict.source);
    const known = this.velocity.get(key);
    if (known && known.receivedAt > verdict.receivedAt) return false;
    this.velocity.delete(key); // re-inserted last: the map stays in time order for the sweep and eviction
    this.velocity.set(key, verdict);
    if (this.velocity.size > MAX_VELOCITY_SENDERS) this.velocity.delete(this.velocity.keys().next().value!);
    return true;
  }

  restoreWindowReport(report: AssessedReport): void {
    this.addToWindow(report);
  }

  reputation(reporterHash: string): { score: number; history: number } {
    const r = this.reputations.get(reporterHash) ?? { upheld: 0, rejected: 0 };
    const { priorUpheld, priorRejected } = this.policy.reputation;
    return { score: (r.upheld + priorUpheld) / (r.upheld + r.rejected + priorUpheld + priorRejected), history: r.upheld + r.rejected };
  }

  activeBlock(kind: "sender", value: string, now: number): BlockListEntry | null {
    const b = this.blocks.get(blockListKey(kind, value));
    return b && b.state === "active" && (b.expiresAt === null || b.expiresAt > now) ? b : null;
  }

  caseById(caseId: string): Readonly<CaseState> | undefined {
    return this.casesById.get(caseId);
  }

  // ---- events ----

  onReport(report: AssessedReport, now: number): DeciderOutput {
    const out = empty();
    const rep = this.reputation(report.reporterHash);
    this.addToWindow(report);
    const sender = report.reportedNumber;
    const existing = this.activeBlock("sender", sender, now);
    if (existing) {
      out.decisions.push(this.assessedEvent(report, now, rep, null));
      // Already blocked: the reporter hears so at once; the report is evidence on the block's history.
      // The outcome names the case that blocked the sender when this instance knows it; never the number.
      this.outcome(out, report, this.blockingCase.get(sender) ?? "blocklist", "blocked", existing.createdBy, now);
      return out;
    }
    const c = this.openCases.get(sender) ?? this.openCase(sender, now, report.allowListed);
    out.decisions.push(this.assessedEvent(report, now, rep, c.caseId));
    const { evidence, established } = this.evidence(sender, now);
    c.reports.set(report.reportId, report);
    c.allowListed ||= report.allowListed;
    c.evidence = evidence;
    c.updatedAt = now;
    const byReporters = this.autoBlockRule(evidence, established, c.allowListed);
    const velocity = byReporters || c.allowListed ? null : this.velocityRule(sender, now);
    if (velocity) c.evidence = withVerdict(c.evidence, velocity.verdictId);
    const rule = byReporters ?? velocity;
    if (rule) {
      this.decide(out, c, "blocked", `policy:${rule.rule}`, rule.rule, rule.reason, now);
    } else {
      // allow-listed: never auto-blocked; brigading: few verified reports, or only new reporters without an established one.
      c.rule = c.allowListed ? "allow_listed_review" : evidence.brigadingSuspected ? "brigading_review" : "review";
      c.reason = c.rule;
      out.decisions.push(this.caseEvent(c));
    }
    return out;
  }

  /**
   * A traffic verdict. The sender is judged on its current evidence, not only on the verdict of the
   * message a report matched (an early recipient's message is scored before the sender's rate is):
   * a velocity verdict is remembered per sender, and a sender whose open case already holds a
   * verified report is judged again at once.
   */
  onVerdict(verdict: SenderVerdict, now: number): DeciderOutput {
    const out = empty();
    if (!this.restoreVerdict(verdict, now)) return out;
    const c = this.openCaseOf(verdict.source);
    if (!c || c.allowListed || this.activeBlock("sender", c.subject, now)) return out;
    const rule = this.velocityRule(c.subject, now);
    if (rule) {
      c.evidence = withVerdict(this.evidence(c.subject, now).evidence, rule.verdictId);
      c.updatedAt = now;
      this.decide(out, c, "blocked", `policy:${rule.rule}`, rule.rule, rule.reason, now);
    }
    return out;
  }

  onReviewLabel(label: ReviewLabel, now: number): DeciderOutput {
    const out = empty();
    // A review case the decider's case joined carries the decider's id beside its own.
    const c = this.casesById.get(label.deciderCaseId ?? label.caseId);
    if (!c) return out; // not a case of this instance (or an API case without reports)
    const by = `reviewer:${label.reviewer}`;
    // A label repeats (redelivery, one label per flagged message of a case): the same decision twice changes nothing.
    if (c.state === "decided" && (label.label === "spam" ? c.decision === "blocked" : label.label === "ham" && c.decision === "not_spam")) return out;
    if (label.label === "escalate") {
      c.decision = "escalated";
      c.decidedBy = by;
      c.reason = label.comment || "reviewed_escalated";
      c.updatedAt = now;
      out.decisions.push(this.caseEvent(c));
      return out;
    }
    const upheld = label.label === "spam";
    for (const r of c.reports.values()) {
      const rec = this.reputations.get(r.reporterHash) ?? { upheld: 0, rejected: 0 };
      if (upheld) rec.upheld++;
      else rec.rejected++;
      this.reputations.set(r.reporterHash, rec);
    }
    if (upheld) {
      this.decide(out, c, "blocked", by, "", label.comment || "reviewed_spam", now);
    } else {
      this.decide(out, c, "not_spam", by, "", label.comment || "reviewed_not_spam", now);
      const block = this.activeBlock("sender", c.subject, now);
      if (block) this.lift(out, block, by, label.comment || "lifted_on_review", now);
    }
    return out;
  }

  /** A block lifted on appeal (by a reviewer through the API): the change and its audit record. */
  liftBlock(kind: "sender", value: string, actor: string, reason: string, now: number): DeciderOutput {
    const out = empty();
    const block = this.activeBlock(kind, value, now);
    if (block) this.lift(out, block, actor, reason, now);
    return out;
  }

  /**
   * Open cases whose sender was blocked from elsewhere (a campaign decided spam in review, another
   * instance), SLA breaches and block expiry; run periodically.
   */
  sweep(now: number): DeciderOutput {
    const out = empty();
    for (const c of [...this.openCases.values()]) {
      const block = this.activeBlock("sender", c.subject, now);
      if (block) {
        // The block settles the case: its reporters are owed the outcome now, not when someone reviews a moot case.
        this.decide(out, c, "blocked", block.createdBy, "sender_blocked", "sender_blocked", now, { renewBlock: false });
        continue;
      }
      if (!c.slaBreached && c.slaDueAt <= now && c.reports.size > 0) {
        c.slaBreached = true;
        c.updatedAt = now;
        out.decisions.push(this.caseEvent(c));
      }
    }
    for (const b of this.blocks.values()) {
      if (b.state === "active" && b.expiresAt !== null && b.expiresAt <= now) {
        const next: BlockListEntry = { ...b, state: "expired", version: b.version + 1 };
        this.applyBlock(next);
        this.blockingCase.delete(b.value);
        out.blocks.push(next);
      }
    }
    const horizon = now - this.policy.windowHours * HOUR;
    for (const [key, hit] of this.velocity) {
      // Arrival order is close to time order: an entry missed here is still checked against the window when used.
      if (hit.receivedAt >= horizon) break;
      this.velocity.delete(key);
    }
    for (const [sender, list] of this.windows) {
      const kept = list.filter((r) => r.receivedAt >= horizon);
      if (kept.length === 0) this.windows.delete(sender);
      else if (kept.length !== list.length) this.windows.set(sender, kept);
    }
    return out;
  }

  // ---- internals ----

  private addToWindow(report: AssessedReport): void {
    const rep = this.reputation(report.reporterHash);
    const list = this.windows.get(report.reportedNumber) ?? [];
    if (list.some((r) => r.reportId === report.reportId)) return; // redelivered report
    list.push({ ...report, reputation: rep.score, newReporter: rep.history === 0 });
    this.windows.set(report.reportedNumber, list);
  }

  /** The case evidence, and how many of its reputable verified reporters are established. */
  private evidence(sender: string, now: number): { evidence: CaseEvidence; established: number } {
    const horizon = now - this.policy.windowHours * HOUR;
    const list = (this.windows.get(sender) ?? []).filter((r) => r.receivedAt >= horizon);
    const verified = list.filter((r) => r.verification === "verified");
    // One vote per reporter: the same person reporting ten times counts once.
    const byReporter = new Map<string, WindowReport>();
    for (const r of verified) if (!byReporter.has(r.reporterHash)) byReporter.set(r.reporterHash, r);
    const reputable = [...byReporter.values()].filter((r) => this.reputation(r.reporterHash).score >= this.policy.reputation.minReputation);
    const weighted = reputable.reduce((s, r) => s + this.reputation(r.reporterHash).score, 0);
    const withVerdict = verified.filter((r) => r.verdict !== null);
    const agreeing = withVerdict.filter((r) => r.verdict?.label === "spam").length;
    const distinctReporters = new Set(list.map((r) => r.reporterHash));
    const newReporters = [...distinctReporters].filter((h) => this.reputation(h).history === 0).length;
    const established = reputable.filter((r) => this.established(r.reporterHash)).length;
    const b = this.policy.brigading;
    const a = this.policy.autoBlock;
    // At every count: a handful of fresh numbers is the cheapest brigade there is, so new
    // reporters enough to reach the bar without an established one are flagged, not only many.
    const brigadingSuspected =
      list.length > 0 &&
      (verified.length / list.length < b.minVerifiedShare ||
        (newReporters / Math.max(1, distinctReporters.size) > b.maxNewReporterShare &&
          reputable.length >= a.minDistinctVerifiedReporters &&
          established < a.minEstablishedReporters));
    const evidence: CaseEvidence = {
      reportIds: list.map((r) => r.reportId).slice(-1000),
      verdictIds: [...new Set(withVerdict.map((r) => r.verdict!.verdictId))].slice(-1000),
      reportCount: list.length,
      verifiedCount: verified.length,
      fabricatedCount: list.filter((r) => r.verification === "fabricated").length,
      distinctVerifiedReporters: reputable.length,
      weightedReporters: Math.round(weighted * 1000) / 1000,
      classifierAgreement: withVerdict.length === 0 ? 0 : agreeing / withVerdict.length,
      maxScore: withVerdict.reduce((m, r) => Math.max(m, r.verdict!.score), 0),
      brigadingSuspected,
      windowHours: this.policy.windowHours,
    };
    return { evidence, established };
  }

  /** A reporter with at least one report upheld by review and a reputation that still counts. */
  private established(reporterHash: string): boolean {
    const r = this.reputations.get(reporterHash);
    return r !== undefined && r.upheld > 0 && this.reputation(reporterHash).score >= this.policy.reputation.minReputation;
  }

  private autoBlockRule(e: CaseEvidence, established: number, allowListed: boolean): { rule: string; reason: string } | null {
    if (allowListed) return null;
    const a = this.policy.autoBlock;
    // Corroboration beyond fresh reports: anyone can bring three new numbers, not three upheld reporters.
    if (
      !e.brigadingSuspected &&
      established >= a.minEstablishedReporters &&
      e.distinctVerifiedReporters >= a.minDistinctVerifiedReporters &&
      e.weightedReporters >= a.minWeightedReporters &&
      e.classifierAgreement >= a.minClassifierAgreement
    ) {
      return {
        rule: "verified_reporters",
        // The figures behind it (reporters, their weight, classifier agreement) are in the case evidence.
        reason: "verified_reporters",
      };
    }
    return null;
  }

  private isVelocityHit(v: { label: VerdictLabel; score: number; ruleIds: readonly string[] }): boolean {
    const a = this.policy.autoBlock;
    return v.label === "spam" && v.score >= a.velocityMinScore && v.ruleIds.some((id) => id.startsWith(a.velocityRulePrefix));
  }

  /** The open case of a sender, however the verdict wrote its number. */
  private openCaseOf(source: string): CaseState | undefined {
    for (const n of numberVariants(source)) {
      const c = this.openCases.get(n);
      if (c) return c;
    }
    return undefined;
  }

  /**
   * A velocity verdict of the sender in the window (a reported message's own, or the sender's latest
   * from sms.verdicts) plus verified reports. Never on reports alone: at least one must be verified.
   */
  private velocityRule(sender: string, now: number): { rule: string; reason: string; verdictId: string } | null {
    const a = this.policy.autoBlock;
    const horizon = now - this.policy.windowHours * HOUR;
    const verified = (this.windows.get(sender) ?? []).filter((r) => r.receivedAt >= horizon && r.verification === "verified");
    const reported = verified.find((r) => r.verdict !== null && this.isVelocityHit(r.verdict))?.verdict ?? null;
    const latest = this.velocity.get(senderKey(sender));
    const hit = reported ?? (latest && latest.receivedAt >= horizon ? latest : null);
    if (hit && verified.length >= Math.max(1, a.velocityMinVerifiedReports)) {
      // The verdict (a reported message's, or the sender's latest) joins the case's evidence.
      return { rule: "velocity_high_score", reason: "velocity_high_score", verdictId: hit.verdictId };
    }
    return null;
  }

  private openCase(sender: string, now: number, allowListed: boolean): CaseState {
    const c: CaseState = {
      caseId: newCaseId(),
      subject: sender,
      version: 0,
      state: "open",
      decision: "pending",
      decidedBy: null,
      reason: "",
      rule: "",
      evidence: this.evidence(sender, now).evidence,
      allowListed,
      openedAt: now,
      updatedAt: now,
      decidedAt: null,
      slaDueAt: now + this.policy.slaHours * HOUR,
      slaBreached: false,
      reports: new Map(),
    };
    this.openCases.set(sender, c);
    this.casesById.set(c.caseId, c);
    return c;
  }

  private decide(
    out: DeciderOutput,
    c: CaseState,
    decision: "blocked" | "not_spam",
    by: string,
    rule: string,
    reason: string,
    now: number,
    opts: { renewBlock: boolean } = { renewBlock: true },
  ): void {
    c.state = "decided";
    c.decision = decision;
    c.decidedBy = by;
    c.rule = rule;
    c.reason = reason;
    c.decidedAt = now;
    c.updatedAt = now;
    out.decisions.push(this.caseEvent(c));
    if (this.openCases.get(c.subject) === c) this.openCases.delete(c.subject);
    if (decision === "blocked" && opts.renewBlock) {
      const prev = this.blocks.get(blockListKey("sender", c.subject));
      const entry: BlockListEntry = {
        v: 1,
        kind: "sender",
        value: c.subject,
        state: "active",
        reason,
        evidence: { reportIds: c.evidence.reportIds.slice(-1000), verdictIds: c.evidence.verdictIds.slice(-1000) },
        createdBy: by,
        // Renewal keeps the original creation time and extends the expiry.
        createdAt: prev && prev.state === "active" ? prev.createdAt : now,
        expiresAt: now + this.policy.block.ttlHours * HOUR,
        version: (prev?.version ?? 0) + 1,
      };
      this.applyBlock(entry);
      this.blockingCase.set(c.subject, c.caseId);
      out.blocks.push(entry);
    }
    for (const r of c.reports.values()) this.outcome(out, r, c.caseId, decision === "blocked" ? "blocked" : "not_confirmed", by, now);
    c.reports.clear();
  }

  private lift(out: DeciderOutput, block: BlockListEntry, actor: string, reason: string, now: number): void {
    const next: BlockListEntry = { ...block, state: "lifted", reason, createdBy: actor, version: block.version + 1 };
    this.applyBlock(next);
    this.blockingCase.delete(block.value);
    out.blocks.push(next);
    // The audit record is written by the sink from the block-list topic, so lifts from the review API are audited the same way.
  }

  private outcome(out: DeciderOutput, r: AssessedReport, caseId: string, outcome: ReportOutcome["outcome"], by: string, now: number): void {
    out.decisions.push({
      v: 1,
      type: "report_outcome",
      id: `outcome-${r.reportId}`.slice(0, 128),
      reportId: r.reportId,
      caseId: caseId.slice(0, 128),
      outcome,
      decidedBy: by,
      reporterHash: r.reporterHash,
      reportReceivedAt: r.receivedAt,
      decidedAt: now,
    });
    // The case's outcome is about the sender; the text also says what was verified about this report.
    const kind = outcomeReplyKind(outcome, r.verification);
    out.replies.push({
      v: 1,
      id: `reply-outcome-${r.reportId}`.slice(0, 128),
      reportId: r.reportId,
      to: r.reporterMsisdn,
      from: r.shortCode,
      kind,
      text: this.render(kind, { reportId: r.reportId, reportedNumber: r.reportedNumber }),
      createdAt: now,
    });
  }

  private assessedEvent(r: AssessedReport, now: number, rep: { score: number; history: number }, caseId: string | null): DecisionEvent {
    return {
      v: 1,
      type: "report_assessed",
      id: `assessed-${r.reportId}`.slice(0, 128),
      reportId: r.reportId,
      reportedNumber: r.reportedNumber,
      reporterHash: r.reporterHash,
      reportReceivedAt: r.receivedAt,
      assessedAt: now,
      verification: r.verification,
      matchedMessageId: r.matchedMessageId,
      similarity: r.similarity,
      caseId,
      reporterReputation: rep.score,
      reporterHistory: rep.history,
      allowListed: r.allowListed,
      campaignId: r.verdict?.campaignId ?? null,
      verdictLabel: r.verdict?.label ?? null,
    };
  }

  private caseEvent(c: CaseState): CaseEvent {
    c.version++;
    return {
      v: 1,
      type: "case",
      id: `${c.caseId}-v${c.version}`.slice(0, 128),
      caseId: c.caseId,
      version: c.version,
      subjectKind: "sender",
      subject: c.subject,
      state: c.state,
      decision: c.decision,
      decidedBy: c.decidedBy,
      reason: c.reason.slice(0, 500),
      rule: c.rule,
      evidence: c.evidence,
      allowListed: c.allowListed,
      openedAt: c.openedAt,
      updatedAt: c.updatedAt,
      decidedAt: c.decidedAt,
      slaDueAt: c.slaDueAt,
      slaBreached: c.slaBreached,
    };
  }
}
