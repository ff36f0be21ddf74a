import { describe, expect, it } from "vitest";
import { CaseRow } from "./cases.js";
import { detail } from "./view.js";

const row = (over: Partial<CaseRow>): CaseRow =>
  CaseRow.parse({
    id: "c_aaaaaaaaaaaaaaaaaaaa", kind: "report", source: "report", subject_kind: "sender", subject: "13800138000", sender: "13800138000", message_id: null, verdict_id: null, campaign_id: null,
    category: null, model_label: "spam", score: 0.9, recipients: 0, report_count: 1, text: "", contributions: [], samples: [],
    opened_at: new Date().toISOString(), first_report_at: null, status: "open", claimed_by: null, claim_expires: null, decision: null,
    decision_category: null, decision_comment: null, decided_at: null, ...over,
  });
const ctx = { role: "reviewer" as const, userId: 1, slaHours: 48, reports: [], campaign: null, history: [] };

describe("case detail: the domains a spam decision would block (issue 17, finding 10)", () => {
  it("lists registrable, non-allow-listed domains before the decision", () => {
    const c = row({ text: "退款请登录 https://pay.evil-loan.com.cn/x ，官网 10086.cn ，说明 http://com.cn" });
    expect(detail(c, ctx).domainsToBlock).toEqual(["evil-loan.com.cn"]);
  });
  it("shows none while the text is withheld", () => {
    expect(detail(row({ model_label: "ham", text: "https://pay.evil-loan.com.cn" }), ctx).domainsToBlock).toEqual([]);
  });
});
