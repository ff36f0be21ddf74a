import { BlockListEntryV1, OutboundReplyV1, ReviewLabelV1 } from "@spam/contracts";
import { renderReply } from "@spam/replies";
import { describe, expect, it } from "vitest";
import { decisionEffects, extractDomains, type DecidedCase } from "./effects.js";

const config = { blockTtlMs: 30 * 86_400_000, shortCode: "10086999" };
const decision = { id: "d1", label: "spam" as const, category: "fraud", comment: "冒充客服", reviewer: "alice", decidedAt: 1_700_000_000_000 };
const c1: DecidedCase = { id: "msg:m1", sender: "13800138000", messageId: "m1", verdictId: "v1", campaignId: "c9", text: "您的账户异常，请登录 http://www.bank-verify.top/a 处理" };

describe("decision effects", () => {
  it("labels, blocks sender, domain and campaign fingerprint, and answers each reporter once", () => {
    const out = decisionEffects(decision, [c1], [
      { reportId: "r1", reporterMsisdn: "13900000001", reportedNumber: "13800138000", verification: "verified" },
      { reportId: "r1", reporterMsisdn: "13900000001", reportedNumber: "13800138000", verification: "verified" },
    ], config);
    const byTopic = (k: string) => out.filter((m) => m.topicKey === k);
    expect(byTopic("reviewLabels")).toHaveLength(1);
    ReviewLabelV1.parse(byTopic("reviewLabels")[0]?.payload);
    const blocks = byTopic("blocklist").map((m) => BlockListEntryV1.parse(m.payload));
    expect(blocks.map((b) => `${b.kind}:${b.value}`).sort()).toEqual(["domain:bank-verify.top", "fingerprint:c9", "sender:13800138000"]);
    expect(blocks.every((b) => b.expiresAt === decision.decidedAt + config.blockTtlMs && b.evidence.reportIds[0] === "r1")).toBe(true);
    const replies = byTopic("repliesOutbound").map((m) => OutboundReplyV1.parse(m.payload));
    expect(replies).toHaveLength(1);
    expect(replies[0]?.kind).toBe("outcome_blocked");
    expect(replies[0]?.to).toBe("13900000001");
    expect(replies[0]?.text).not.toContain("13800138000"); // the reported number is masked in the SMS too
  });

  it("not spam: labels and a not-confirmed reply, no block", () => {
    const out = decisionEffects({ ...decision, label: "ham", category: null }, [c1], [{ reportId: "r2", reporterMsisdn: "1390", reportedNumber: null, verification: "verified" }], config);
    expect(out.filter((m) => m.topicKey === "blocklist")).toHaveLength(0);
    const reply = out.find((m) => m.topicKey === "repliesOutbound");
    expect(OutboundReplyV1.parse(reply?.payload).kind).toBe("outcome_not_confirmed");
    expect(ReviewLabelV1.parse(out[0]?.payload).category).toBeNull();
  });

  it("outcome texts follow what was verified about each report, rendered from rules/replies like the decider's (issue 19)", () => {
    const reports = [
      { reportId: "r4", reporterMsisdn: "13900000004", reportedNumber: "13800138000", verification: "verified" },
      { reportId: "r5", reporterMsisdn: "13900000005", reportedNumber: "13800138000", verification: "fabricated" },
      { reportId: "r6", reporterMsisdn: "13900000006", reportedNumber: "13800138000", verification: "unverified" },
    ];
    const spam = decisionEffects(decision, [c1], reports, config).filter((m) => m.topicKey === "repliesOutbound").map((m) => OutboundReplyV1.parse(m.payload));
    expect(spam.map((r) => r.kind)).toEqual(["outcome_blocked", "outcome_blocked_unverified", "outcome_blocked_unverified"]);
    expect(spam[0]?.text).toBe(renderReply("outcome_blocked", { reportId: "r4", reportedNumber: "138******00" }));
    expect(spam[1]?.text).toBe(renderReply("outcome_blocked_unverified", { reportId: "r5", reportedNumber: "138******00" }));
    expect(spam[1]?.text).not.toContain("经核实为垃圾短信");
    const ham = decisionEffects({ ...decision, label: "ham", category: null }, [c1], reports, config).filter((m) => m.topicKey === "repliesOutbound").map((m) => OutboundReplyV1.parse(m.payload));
    expect(ham.map((r) => r.kind)).toEqual(["outcome_not_confirmed", "outcome_not_confirmed", "outcome_not_confirmed"]);
  });

  it("escalation only records the label: nobody is answered yet", () => {
    const out = decisionEffects({ ...decision, label: "escalate" }, [c1], [{ reportId: "r3", reporterMsisdn: "1", reportedNumber: null, verification: "verified" }], config);
    expect(out.map((m) => m.topicKey)).toEqual(["reviewLabels"]);
  });

  it("one case per subject: a label per flagged message carrying the decider's case id, their domains blocked, a campaign's senders blocked", () => {
    const sender: DecidedCase = {
      ...c1, id: "msg:m1", campaignId: null, deciderCaseId: "c_aaaaaaaaaaaaaaaaaaaa", blockSender: false, text: "",
      messages: [{ messageId: "m1", verdictId: "v1", text: "点击 http://a-one.top" }, { messageId: "m2", verdictId: "v2", text: "点击 http://b-two.top" }],
    };
    const out = decisionEffects(decision, [sender], [], config, ["13700000001", "13700000002"]);
    const labels = out.filter((m) => m.topicKey === "reviewLabels").map((m) => ReviewLabelV1.parse(m.payload));
    expect(labels.map((l) => [l.caseId, l.deciderCaseId, l.messageId])).toEqual([
      ["msg:m1", "c_aaaaaaaaaaaaaaaaaaaa", "m1"],
      ["msg:m1", "c_aaaaaaaaaaaaaaaaaaaa", "m2"],
    ]);
    expect(new Set(labels.map((l) => l.id)).size).toBe(2);
    const blocks = out.filter((m) => m.topicKey === "blocklist").map((m) => BlockListEntryV1.parse(m.payload));
    // The case's own sender is left to the decider; the campaign's senders and the messages' domains are blocked here.
    expect(blocks.map((b) => `${b.kind}:${b.value}`).sort()).toEqual(["domain:a-one.top", "domain:b-two.top", "sender:13700000001", "sender:13700000002"]);
    expect(blocks[0]?.evidence.verdictIds).toEqual(["v1", "v2"]);
  });

  it("extracts domains, skipping operator domains and IPs", () => {
    expect(extractDomains("点击 WWW.Foo-Bar.cn/x 或 https://10086.cn 或 http://1.2.3.4/a 或 abc.xyz")).toEqual(["foo-bar.cn", "abc.xyz"]);
  });

  it("blocks registrable domains only: never a public suffix or an allow-listed brand (issue 17, finding 10)", () => {
    const text = "速领 https://a.b.evil-loan.com.cn/x 或 http://com.cn 或 https://github.io 或 https://m.taobao.com 或 https://www.beijing.gov.cn 或 ＷＷＷ．95588．ＣＯＭ";
    const out = decisionEffects(decision, [{ ...c1, campaignId: null, text }], [], config);
    const blocked = out.filter((m) => m.topicKey === "blocklist").map((m) => BlockListEntryV1.parse(m.payload)).map((b) => `${b.kind}:${b.value}`);
    expect(blocked.sort()).toEqual(["domain:evil-loan.com.cn", "sender:13800138000"]);
  });
});
