import { describe, expect, it } from "vitest";
import type { BlockListEntry, Report, Verdict } from "@spam/contracts";
import { blockListRows, maskNumber, replyRows, reportRows, rowsForInsert, verdictRow } from "./rows.js";

describe("row mapping", () => {
  const entry: BlockListEntry = {
    v: 1, kind: "sender", value: "13900001111", state: "lifted", reason: "appeal upheld", evidence: { reportIds: ["r1"], verdictIds: [] },
    createdBy: "reviewer:bob", createdAt: 1_790_000_000_000, expiresAt: null, version: 3,
  };
  it("a lifted block is written to the block list history and to the audit log with who, when and why", () => {
    const rows = blockListRows(entry, 1_790_000_500_000);
    expect(rows.map((r) => r.table)).toEqual(["blocklist_versions", "audit_log"]);
    expect(rows[1]?.row).toMatchObject({ id: "blocklist-lift:sender:13900001111:3", actor: "reviewer:bob", action: "block_lifted", at: 1_790_000_500, reason: "appeal upheld" });
    expect(blockListRows({ ...entry, state: "active" }, 0).map((r) => r.table)).toEqual(["blocklist_versions"]);
  });
  it("the reporter's number goes only to the restricted tables", () => {
    const report = { v: 1, id: "r1", messageId: "m", receivedAt: 0, gatewayId: "g", shortCode: "10086999", reporterMsisdn: "13812345678", reporterHash: "h", reportedNumber: "139", content: null, rawText: "x", status: "parsed", parseError: null, allowListed: false } satisfies Report;
    const rows = reportRows(report);
    expect(JSON.stringify(rows.find((r) => r.table === "reports"))).not.toContain("13812345678");
    expect(rows.find((r) => r.table === "restricted_report_contacts")?.row["reporter_msisdn"]).toBe("13812345678");
    const reply = replyRows({ v: 1, id: "x", reportId: "r1", to: "+8613812345678", from: "10086999", kind: "outcome_blocked", text: "t", createdAt: 0 });
    expect(reply[0]?.row["recipient_masked"]).toBe("+86138******78");
    expect(reply[1]?.row["recipient"]).toBe("+8613812345678");
  });
  it("masks by the one policy of @spam/privacy (3 + 2 digits of a mobile)", () => {
    expect(maskNumber("13812345678")).toBe("138******78");
    expect(maskNumber("10086")).toBe("1****");
  });
  it("every row of an insert carries inserted_at, the insert's time: 18.16 would store 0000-00-00 for an omitted column", () => {
    const rows = rowsForInsert([{ id: "a" }, { id: "b", inserted_at: 5 }], 1_790_000_000_999);
    expect(rows).toEqual([{ id: "a", inserted_at: 1_790_000_000 }, { id: "b", inserted_at: 1_790_000_000 }]);
  });
  it("a verdict's shadow goes to the shadow columns; without one they are left to their defaults (a table from before 0007 takes it)", () => {
    const verdict: Verdict = {
      v: 1, id: "v-m", messageId: "m", kind: "traffic", receivedAt: 0, scoredAt: 5, source: "1", destination: "2", score: 0.9, label: "spam", category: null,
      action: "block", contributions: [], campaignId: null, rulesetVersion: "r", modelVersion: "m", timingsUs: {},
    };
    expect(Object.keys(verdictRow(verdict)).filter((k) => k.startsWith("shadow"))).toEqual([]);
    expect(verdictRow({ ...verdict, shadow: { modelVersion: "abcdef0123456789", score: 0.2, label: "ham", action: "allow" } })).toMatchObject({
      shadow_model_version: "abcdef0123456789", shadow_score: 0.2, shadow_label: "ham", shadow_action: "allow", shadow_ruleset_version: "",
    });
    expect(verdictRow({ ...verdict, shadow: { modelVersion: "m", rulesetVersion: "cand-rules", score: 0.2, label: "ham", action: "allow" } })).toMatchObject({ shadow_ruleset_version: "cand-rules" });
  });
});
