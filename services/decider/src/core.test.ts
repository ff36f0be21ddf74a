import { describe, expect, it } from "vitest";
import { CASE_ID_PATTERN, VERDICT_LABELS, type BlockListEntry, type CaseEvent, type DecisionEvent, type Report, type VerdictLabel } from "@spam/contracts";
import { DeciderCore, mayBeVelocityEvidence, REASON_CODES, type AssessedReport, type DeciderOutput, type SenderVerdict } from "./core.js";
import { defaultPolicyPath, loadPolicy, parsePolicy } from "./policy.js";
import { assessReport, type TrafficLookup } from "./verify.js";
import { defaultReplyTemplatesPath, loadReplyTemplates } from "@spam/replies";

const policy = loadPolicy(defaultPolicyPath());
const HOUR = 3_600_000;
const T0 = 1_790_000_000_000;
const render = (kind: string, vars: { reportId: string; reportedNumber: string }) => `${kind} ${vars.reportedNumber} ${vars.reportId}`;
const SENDER = "13900001111";
let seq = 0;

function report(reporter: string, overrides: Partial<AssessedReport> = {}): AssessedReport {
  seq++;
  return {
    reportId: `rep-${seq}`,
    reportedNumber: SENDER,
    reporterHash: `h-${reporter}`,
    reporterMsisdn: `1380000${reporter.padStart(4, "0")}`,
    shortCode: "10086999",
    receivedAt: T0,
    allowListed: false,
    verification: "verified",
    matchedMessageId: `m-${seq}`,
    similarity: 0.9,
    verdict: { verdictId: `vd-m-${seq}`, label: "spam", score: 0.8, campaignId: "c1", ruleIds: ["fraud.prize"] },
    ...overrides,
  };
}

const cases = (out: DeciderOutput) => out.decisions.filter((d): d is CaseEvent => d.type === "case");
const lastCase = (outs: DeciderOutput[]) => outs.flatMap(cases).at(-1)!;
function all(outs: DeciderOutput[], k: "blocks"): BlockListEntry[];
function all(outs: DeciderOutput[], k: "replies"): DeciderOutput["replies"];
function all(outs: DeciderOutput[], k: "decisions"): DecisionEvent[];
function all(outs: DeciderOutput[], k: keyof DeciderOutput): unknown[] {
  return outs.flatMap((o) => o[k] as unknown[]);
}

describe("decider policy", () => {
  it("verified reports from distinct reporters, one of them established, with a spam verdict block the sender, with evidence, and answer every reporter", () => {
    const core = new DeciderCore(policy, render);
    core.restoreReputation("h-1", { upheld: 1, rejected: 0 });
    const outs = ["1", "2", "3"].map((r, i) => core.onReport(report(r), T0 + i * 1000));
    expect(cases(outs[0]!)[0]).toMatchObject({ state: "open", decision: "pending" });
    const blocks = all(outs, "blocks") as BlockListEntry[];
    expect(blocks).toHaveLength(1);
    expect(blocks[0]).toMatchObject({ kind: "sender", value: SENDER, state: "active", createdBy: "policy:verified_reporters", version: 1 });
    expect(blocks[0]!.expiresAt).toBe(T0 + 2000 + policy.block.ttlHours * HOUR);
    expect(blocks[0]!.evidence.reportIds).toHaveLength(3);
    expect(blocks[0]!.evidence.verdictIds).toHaveLength(3);
    const decided = lastCase(outs);
    expect(decided).toMatchObject({ state: "decided", decision: "blocked", rule: "verified_reporters" });
    expect(decided.evidence).toMatchObject({ distinctVerifiedReporters: 3, classifierAgreement: 1, brigadingSuspected: false });
    const replies = all(outs, "replies");
    expect(replies.map((r) => r.kind)).toEqual(["outcome_blocked", "outcome_blocked", "outcome_blocked"]);
    expect(new Set(replies.map((r) => r.to)).size).toBe(3);
    const outcomes = (all(outs, "decisions") as DecisionEvent[]).filter((d) => d.type === "report_outcome");
    expect(outcomes).toHaveLength(3);
    // A later report on the blocked sender is answered at once.
    const later = core.onReport(report("4"), T0 + 5000);
    expect(later.replies[0]?.kind).toBe("outcome_blocked");
    expect(later.blocks).toHaveLength(0);
  });

  it("brigading: many reports from few reporters do not block", () => {
    const core = new DeciderCore(policy, render);
    const outs: DeciderOutput[] = [];
    for (let i = 0; i < 20; i++) outs.push(core.onReport(report(i % 2 === 0 ? "1" : "2"), T0 + i * 1000));
    expect(all(outs, "blocks")).toHaveLength(0);
    expect(all(outs, "replies")).toHaveLength(0);
    expect(lastCase(outs)).toMatchObject({ state: "open", decision: "pending" });
    expect(lastCase(outs).evidence).toMatchObject({ reportCount: 20, distinctVerifiedReporters: 2 });
  });

  it("brigading: many distinct reporters whose reports are not backed by delivered traffic do not block", () => {
    const core = new DeciderCore(policy, render);
    const outs: DeciderOutput[] = [];
    for (let i = 0; i < 12; i++) {
      outs.push(core.onReport(report(`b${i}`, { verification: "fabricated", matchedMessageId: null, similarity: null, verdict: null }), T0 + i * 1000));
    }
    // Two genuine verified reports join, still below the bar and the case is flagged.
    outs.push(core.onReport(report("g1"), T0 + 20_000), core.onReport(report("g2"), T0 + 21_000));
    expect(all(outs, "blocks")).toHaveLength(0);
    expect(lastCase(outs)).toMatchObject({ state: "open", rule: "brigading_review" });
    expect(lastCase(outs).evidence).toMatchObject({ reportCount: 14, fabricatedCount: 12, brigadingSuspected: true });
  });

  it("forged reports: three brand-new reporters with verified reports of a spam message do not block, and the case is flagged (issue 17, finding 3)", () => {
    const core = new DeciderCore(policy, render);
    const phishing = { verdictId: "vd-p", label: "spam" as const, score: 0.93, campaignId: null, ruleIds: ["phishing.bank"] };
    const outs = ["r1", "r2", "r3"].map((r, i) => core.onReport(report(r, { verdict: { ...phishing, verdictId: `vd-p${i}` } }), T0 + i * 1000));
    expect(all(outs, "blocks")).toHaveLength(0);
    expect(all(outs, "replies")).toHaveLength(0);
    expect(lastCase(outs)).toMatchObject({ state: "open", decision: "pending", rule: "brigading_review" });
    expect(lastCase(outs).evidence).toMatchObject({ reportCount: 3, distinctVerifiedReporters: 3, classifierAgreement: 1, brigadingSuspected: true });
    // Ten of them change nothing: fresh numbers are cheap.
    const more = Array.from({ length: 7 }, (_, i) => core.onReport(report(`r${i + 4}`), T0 + 10_000 + i));
    expect(all(more, "blocks")).toHaveLength(0);
  });

  it("the brigading check runs below five reports: mostly unverified reports are flagged at any count", () => {
    const core = new DeciderCore(policy, render);
    const unbacked = { verification: "fabricated" as const, matchedMessageId: null, similarity: null, verdict: null };
    const outs = [core.onReport(report("f1", unbacked), T0), core.onReport(report("f2", unbacked), T0 + 1), core.onReport(report("g1"), T0 + 2)];
    expect(lastCase(outs)).toMatchObject({ state: "open", rule: "brigading_review" });
    expect(lastCase(outs).evidence).toMatchObject({ reportCount: 3, brigadingSuspected: true });
  });

  it("an established reporter whose reputation has since fallen below the bar does not corroborate", () => {
    const core = new DeciderCore(policy, render);
    core.restoreReputation("h-1", { upheld: 1, rejected: 6 });
    const outs = ["1", "2", "3", "4"].map((r, i) => core.onReport(report(r), T0 + i));
    expect(all(outs, "blocks")).toHaveLength(0);
    expect(lastCase(outs)).toMatchObject({ state: "open", decision: "pending" });
  });

  it("case ids are opaque: random, and derived from neither the sender nor the reporter", () => {
    const core = new DeciderCore(policy, render);
    core.restoreReputation("h-1", { upheld: 1, rejected: 0 });
    const outs = ["1", "2", "3", "4"].map((r, i) => core.onReport(report(r), T0 + i));
    const ids = all(outs, "decisions").flatMap((d) => [d.id, "caseId" in d ? d.caseId : null]).filter((x): x is string => typeof x === "string");
    for (const id of ids) {
      expect(id).not.toMatch(/\d{7}/);
      expect(id).not.toContain(SENDER);
    }
    const caseIds = new Set(cases(outs[0]!).map((c) => c.caseId));
    for (const id of caseIds) expect(id).toMatch(CASE_ID_PATTERN);
    // The report on the already blocked sender names the blocking case, not the number.
    const late = all([outs[3]!], "decisions").find((d) => d.type === "report_outcome");
    expect(late?.caseId).toBe([...caseIds][0]);
    expect(new DeciderCore(policy, render).onReport(report("9"), T0).decisions.find((d) => d.type === "case")?.caseId).not.toBe([...caseIds][0]);
  });

  it("reporters whose past reports review rejected do not count", () => {
    const core = new DeciderCore(policy, render);
    for (const r of ["1", "2", "3"]) core.restoreReputation(`h-${r}`, { upheld: 0, rejected: 6 });
    const outs = ["1", "2", "3"].map((r, i) => core.onReport(report(r), T0 + i));
    expect(all(outs, "blocks")).toHaveLength(0);
    expect(lastCase(outs).evidence.distinctVerifiedReporters).toBe(0);
  });

  it("allow-listed senders go to review, never auto-block", () => {
    const core = new DeciderCore(policy, render);
    const outs = ["1", "2", "3", "4", "5"].map((r, i) =>
      core.onReport(report(r, { allowListed: true, verdict: { verdictId: `vd-x${i}`, label: "spam", score: 0.99, campaignId: null, ruleIds: ["velocity.rate"] } }), T0 + i),
    );
    expect(all(outs, "blocks")).toHaveLength(0);
    expect(lastCase(outs)).toMatchObject({ state: "open", rule: "allow_listed_review", allowListed: true });
  });

  it("a high-score velocity verdict with one verified report blocks", () => {
    const core = new DeciderCore(policy, render);
    const out = core.onReport(report("1", { verdict: { verdictId: "vd-v", label: "spam", score: 0.97, campaignId: null, ruleIds: ["velocity.fanout"] } }), T0);
    expect(out.blocks[0]?.createdBy).toBe("policy:velocity_high_score");
  });

  it("a commercial verdict never corroborates a block: not as classifier agreement, not as a velocity hit, whatever its score (issue 18)", () => {
    const promo = (id: string) => ({ verdictId: id, label: "commercial" as const, score: 0.99, campaignId: "c1", ruleIds: ["velocity.fanout"] });
    const core = new DeciderCore(policy, render);
    core.restoreReputation("h-1", { upheld: 1, rejected: 0 });
    const outs = ["1", "2", "3"].map((r, i) => core.onReport(report(r, { verdict: promo(`vd-c${i}`) }), T0 + i * 1000));
    expect(all(outs, "blocks")).toHaveLength(0);
    expect(lastCase(outs).evidence).toMatchObject({ distinctVerifiedReporters: 3, classifierAgreement: 0 });
    const burst: SenderVerdict = { verdictId: "vd-cb", source: `+86${SENDER}`, label: "commercial", score: 0.99, ruleIds: ["velocity.fanout"], receivedAt: T0 };
    expect(core.onVerdict(burst, T0 + 4000).blocks).toHaveLength(0);
    expect(core.onReport(report("4", { verdict: promo("vd-c4") }), T0 + 5000).blocks).toHaveLength(0);
  });

  describe("the sender is judged on its current evidence, not only the reported message's verdict (issue 19)", () => {
    const early = { verdictId: "vd-first", label: "spam" as const, score: 0.8, campaignId: null, ruleIds: ["fraud.prize"] };
    const burst = (overrides: Partial<SenderVerdict> = {}): SenderVerdict => ({
      verdictId: "vd-burst", source: `+86${SENDER}`, label: "spam", score: 0.97, ruleIds: ["velocity.fanout"], receivedAt: T0 - 60_000, ...overrides,
    });

    it("an early recipient's verified report blocks once the sender's later messages carry a velocity verdict", () => {
      const core = new DeciderCore(policy, render);
      const first = core.onReport(report("1", { verdict: early }), T0);
      expect(first.blocks).toHaveLength(0);
      const out = core.onVerdict(burst({ receivedAt: T0 + 5_000 }), T0 + 6_000);
      expect(out.blocks[0]).toMatchObject({ kind: "sender", value: SENDER, state: "active", createdBy: "policy:velocity_high_score" });
      expect(out.blocks[0]?.evidence.verdictIds).toContain("vd-burst");
      expect(cases(out)[0]).toMatchObject({ state: "decided", decision: "blocked", rule: "velocity_high_score" });
      expect(out.replies.map((r) => r.kind)).toEqual(["outcome_blocked"]);
    });

    it("the prefilter on the verdict records' bytes lets through every verdict that can be evidence, and no ham or suspect one", () => {
      const verdictJson = (label: VerdictLabel, ruleIds: string[]) =>
        Buffer.from(JSON.stringify({ v: 1, id: "vd", messageId: "m", kind: "traffic", source: `+86${SENDER}`, label, score: 0.97, category: "spam.like", contributions: ruleIds.map((id) => ({ source: "rule", id, weight: 0.5 })) }));
      for (const label of VERDICT_LABELS) {
        for (const ruleIds of [["velocity.fanout"], ["fraud.prize"], []]) {
          const core = new DeciderCore(policy, render);
          core.onReport(report("1", { verdict: early }), T0);
          const evidence = core.onVerdict(burst({ label, ruleIds, receivedAt: T0 + 5_000 }), T0 + 6_000).blocks.length > 0;
          if (evidence) expect(mayBeVelocityEvidence(verdictJson(label, ruleIds)), `${label} ${ruleIds.join()}`).toBe(true);
          if (label !== "spam") expect(mayBeVelocityEvidence(verdictJson(label, ruleIds)), `${label} ${ruleIds.join()}`).toBe(false);
        }
      }
      expect(mayBeVelocityEvidence(verdictJson("spam", ["velocity.fanout"]))).toBe(true);
    });

    it("an early recipient's verified report arriving after the sender's velocity verdict blocks at once", () => {
      const core = new DeciderCore(policy, render);
      expect(core.onVerdict(burst(), T0).blocks).toHaveLength(0); // no report yet: a verdict alone never blocks here
      const out = core.onReport(report("1", { verdict: early }), T0);
      expect(out.blocks[0]?.createdBy).toBe("policy:velocity_high_score");
      expect(cases(out).at(-1)).toMatchObject({ reason: "velocity_high_score" });
      expect(cases(out).at(-1)?.evidence.verdictIds).toContain("vd-burst");
    });

    it("a velocity verdict never blocks on unverified or fabricated reports, an allow-listed sender, another sender, a ham or low score, or outside the window", () => {
      const fabricated = { verification: "fabricated" as const, matchedMessageId: null, similarity: null, verdict: null };
      const core = new DeciderCore(policy, render);
      core.onReport(report("1", fabricated), T0);
      core.onReport(report("2", { ...fabricated, verification: "unverified" }), T0);
      expect(core.onVerdict(burst(), T0).blocks).toHaveLength(0);
      expect(core.onReport(report("3", fabricated), T0 + 1).blocks).toHaveLength(0);

      const allowed = new DeciderCore(policy, render);
      allowed.onReport(report("1", { allowListed: true, verdict: early }), T0);
      expect(allowed.onVerdict(burst(), T0).blocks).toHaveLength(0);

      const weak = new DeciderCore(policy, render);
      weak.onReport(report("1", { verdict: early }), T0);
      expect(weak.onVerdict(burst({ source: "+8613900002222" }), T0).blocks).toHaveLength(0);
      expect(weak.onVerdict(burst({ label: "suspect" }), T0).blocks).toHaveLength(0);
      expect(weak.onVerdict(burst({ score: 0.9 }), T0).blocks).toHaveLength(0);
      expect(weak.onVerdict(burst({ ruleIds: ["fraud.prize"] }), T0).blocks).toHaveLength(0);
      expect(weak.onVerdict(burst({ receivedAt: T0 - (policy.windowHours + 1) * HOUR }), T0).blocks).toHaveLength(0);

      // A velocity verdict remembered but aged out of the window by the time the report comes.
      const stale = new DeciderCore(policy, render);
      stale.onVerdict(burst({ receivedAt: T0 }), T0);
      stale.sweep(T0 + (policy.windowHours + 1) * HOUR);
      expect(stale.onReport(report("1", { verdict: early }), T0 + (policy.windowHours + 1) * HOUR).blocks).toHaveLength(0);
    });
  });

  it("a reviewer's decision answers the reporters, updates reputation, and lifting a block is audited", () => {
    const core = new DeciderCore(policy, render);
    const first = core.onReport(report("1"), T0);
    const caseId = cases(first)[0]!.caseId;
    const spam = core.onReviewLabel({ v: 1, id: "l1", caseId, messageId: null, label: "spam", category: "fraud", reviewer: "alice", decidedAt: T0 + HOUR, comment: "" }, T0 + HOUR);
    expect(spam.blocks[0]).toMatchObject({ state: "active", createdBy: "reviewer:alice", version: 1 });
    expect(spam.replies[0]?.kind).toBe("outcome_blocked");
    expect(core.reputation("h-1")).toEqual({ score: 2 / 3, history: 1 });
    const outcome = spam.decisions.find((d) => d.type === "report_outcome");
    expect(outcome).toMatchObject({ decidedAt: T0 + HOUR, reportReceivedAt: T0 });

    // Appeal: the sender's case is reviewed again as not spam → block lifted with an audit record.
    const second = core.liftBlock("sender", SENDER, "reviewer:bob", "appeal upheld: bank notifications", T0 + 2 * HOUR);
    expect(second.blocks[0]).toMatchObject({ state: "lifted", version: 2, createdBy: "reviewer:bob" });
    expect(second.blocks[0]?.reason).toBe("appeal upheld: bank notifications");
    expect(core.activeBlock("sender", SENDER, T0 + 2 * HOUR)).toBeNull();
  });

  it("a case left undecided past the SLA is raised once; expired blocks are published as expired", () => {
    const core = new DeciderCore(policy, render);
    core.onReport(report("1"), T0);
    expect(core.sweep(T0 + 47 * HOUR).decisions).toHaveLength(0);
    const breached = core.sweep(T0 + 48 * HOUR + 1);
    expect(cases(breached)[0]).toMatchObject({ slaBreached: true, state: "open" });
    expect(core.sweep(T0 + 49 * HOUR).decisions).toHaveLength(0);

    const blocked = new DeciderCore(policy, render);
    blocked.restoreReputation("h-1", { upheld: 2, rejected: 0 });
    const outs = ["1", "2", "3"].map((r) => blocked.onReport(report(r), T0));
    expect(all(outs, "blocks")).toHaveLength(1);
    const expired = blocked.sweep(T0 + policy.block.ttlHours * HOUR + 1);
    expect(expired.blocks[0]).toMatchObject({ state: "expired", version: 2 });
  });

  it("a blocked sender's reporters each hear what is true of their own report: verified as spam only when it was (issue 19)", () => {
    const templates = loadReplyTemplates(defaultReplyTemplatesPath());
    const core = new DeciderCore(policy, (kind, vars) => templates.render(kind, vars));
    core.restoreReputation("h-1", { upheld: 1, rejected: 0 });
    const fabricated = { verification: "fabricated" as const, matchedMessageId: null, similarity: null, verdict: null };
    const outs = [
      core.onReport(report("9", fabricated), T0),
      ...["1", "2", "3"].map((r, i) => core.onReport(report(r), T0 + (i + 1) * 1000)),
      // Reported after the block: answered at once, by the same rule.
      core.onReport(report("8", { ...fabricated }), T0 + 10_000),
      core.onReport(report("7"), T0 + 11_000),
    ];
    expect(all(outs, "blocks")).toHaveLength(1);
    const byReporter = new Map(all(outs, "replies").map((r) => [r.to, r]));
    expect(byReporter.size).toBe(6);
    for (const who of ["1", "2", "3", "7"]) {
      const r = byReporter.get(`1380000${who.padStart(4, "0")}`)!;
      expect(r.kind).toBe("outcome_blocked");
      expect(r.text).toContain("经核实为垃圾短信");
    }
    for (const who of ["9", "8"]) {
      const r = byReporter.get(`1380000${who.padStart(4, "0")}`)!;
      expect(r.kind).toBe("outcome_blocked_unverified");
      expect(r.text).not.toContain("经核实为垃圾短信");
    }
  });

  it("a reviewer's spam decision does not tell an unverified reporter that their report was verified (issue 19)", () => {
    const core = new DeciderCore(policy, render);
    const first = core.onReport(report("1", { verification: "unverified", matchedMessageId: null, verdict: null }), T0);
    core.onReport(report("2"), T0 + 1);
    const caseId = cases(first)[0]!.caseId;
    const spam = core.onReviewLabel({ v: 1, id: "l1", caseId, messageId: null, label: "spam", category: "fraud", reviewer: "alice", decidedAt: T0 + HOUR, comment: "" }, T0 + HOUR);
    expect(spam.replies.map((r) => [r.to, r.kind])).toEqual([
      ["13800000001", "outcome_blocked_unverified"],
      ["13800000002", "outcome_blocked"],
    ]);
  });

  it("a sender blocked from elsewhere (a campaign decided in review) settles its open case at the next sweep, each reporter told what is true of their report (issue 19)", () => {
    const core = new DeciderCore(policy, render);
    const fabricated = report("1", { verification: "fabricated", matchedMessageId: null, similarity: null, verdict: null });
    const verified = report("2");
    core.onReport(fabricated, T0);
    const caseId = cases(core.onReport(verified, T0 + 1000))[0]!.caseId;
    const block: BlockListEntry = {
      v: 1, kind: "sender", value: SENDER, state: "active", reason: "review d1: fraud", evidence: { reportIds: [], verdictIds: [] },
      createdBy: "reviewer:ana", createdAt: T0 + 2000, expiresAt: T0 + 100 * HOUR, version: T0 + 2000,
    };
    core.applyBlock(block);
    const out = core.sweep(T0 + 3000);
    expect(cases(out)).toEqual([expect.objectContaining({ caseId, state: "decided", decision: "blocked", decidedBy: "reviewer:ana", rule: "sender_blocked", reason: "sender_blocked" })]);
    // The block it rests on is not re-issued.
    expect(out.blocks).toHaveLength(0);
    expect(out.replies.map((r) => [r.reportId, r.kind])).toEqual([
      [fabricated.reportId, "outcome_blocked_unverified"],
      [verified.reportId, "outcome_blocked"],
    ]);
    expect(core.sweep(T0 + 4000).decisions).toHaveLength(0);
  });

  it("a repeated review label (redelivered, or one per flagged message of a case) decides once", () => {
    const core = new DeciderCore(policy, render);
    const caseId = cases(core.onReport(report("1"), T0))[0]!.caseId;
    const label = { v: 1 as const, id: "l1", caseId, messageId: null, label: "spam" as const, category: "fraud", reviewer: "ana", decidedAt: T0 + 1000, comment: "" };
    const first = core.onReviewLabel(label, T0 + 1000);
    expect(first.replies).toHaveLength(1);
    expect(first.blocks).toHaveLength(1);
    const again = core.onReviewLabel({ ...label, id: "l2", messageId: "m-2" }, T0 + 2000);
    expect(again).toEqual({ decisions: [], replies: [], blocks: [] });
  });

  it("a label of the review case the decider's case joined settles the decider's case by its id", () => {
    const core = new DeciderCore(policy, render);
    const caseId = cases(core.onReport(report("1"), T0))[0]!.caseId;
    const out = core.onReviewLabel(
      { v: 1, id: "l1", caseId: "msg:m-first", deciderCaseId: caseId, messageId: "m-first", label: "spam", category: "fraud", reviewer: "ana", decidedAt: T0 + 1000, comment: "" },
      T0 + 1000,
    );
    expect(cases(out)[0]).toMatchObject({ caseId, state: "decided", decision: "blocked", decidedBy: "reviewer:ana" });
    expect(out.replies.map((r) => r.kind)).toEqual(["outcome_blocked"]);
  });

  it("the policy's reasons are codes the console translates, never sentences", () => {
    const core = new DeciderCore(policy, render);
    core.restoreReputation("h-1", { upheld: 1, rejected: 0 });
    const outs = ["1", "2", "3"].map((r, i) => core.onReport(report(r), T0 + i * 1000));
    const allowListed = new DeciderCore(policy, render).onReport(report("9", { reportedNumber: "13900002222", allowListed: true }), T0);
    const reasons = [...outs, allowListed].flatMap(cases).map((c) => c.reason);
    expect(reasons.length).toBeGreaterThan(3);
    for (const r of reasons) expect(REASON_CODES).toContain(r);
    expect(all(outs, "blocks").map((b) => b.reason)).toEqual(["verified_reporters"]);
  });

  it("policy files are validated", () => {
    expect(() => parsePolicy("windowHours: -1")).toThrow(/windowHours/);
  });
});

describe("report verification", () => {
  const base: Report & { reportedNumber: string } = {
    v: 1,
    id: "r1",
    messageId: "sms-r1",
    receivedAt: T0,
    gatewayId: "gw",
    shortCode: "10086999",
    reporterMsisdn: "13800001234",
    reporterHash: "h",
    reportedNumber: "13900001111",
    content: "恭喜您中奖了，请点击 http://x.cn 领取",
    rawText: "",
    status: "parsed",
    parseError: null,
    allowListed: false,
  };
  const lookup = (texts: string[]): TrafficLookup => ({
    delivered: async (sender, recipient) =>
      sender === "13900001111" && recipient === "13800001234" ? texts.map((text, i) => ({ id: `m${i}`, text, receivedAt: T0 - 60_000 })) : [],
    verdictFor: async (id) => ({ verdictId: `vd-${id}`, label: "spam", score: 0.9, campaignId: null, ruleIds: [] }),
  });

  it("a near-duplicate (full-width, spaces, small edits) of a delivered message is verified", async () => {
    const a = await assessReport(base, lookup(["您好", "恭 喜 您 中 奖 了！请点击ｈｔｔｐ://x.cn领取奖品"]), policy);
    expect(a.verification).toBe("verified");
    expect(a.matchedMessageId).toBe("m1");
    expect(a.verdict?.verdictId).toBe("vd-m1");
  });
  it("traffic from the sender but nothing like the content is unverified", async () => {
    const a = await assessReport(base, lookup(["您的验证码是 123456"]), policy);
    expect(a.verification).toBe("unverified");
    expect(a.verdict).toBeNull();
  });
  it("no traffic from the sender to the reporter is fabricated-looking", async () => {
    const a = await assessReport({ ...base, reporterMsisdn: "13800009999" }, lookup(["恭喜您中奖了"]), policy);
    expect(a.verification).toBe("fabricated");
  });
});
