import { describe, expect, it } from "vitest";
import { classFigures, classTable, type Outcome } from "./classes.js";

const labelOf = (action: Outcome["action"]): Outcome["label"] => (action === null ? null : action === "block" ? "spam" : action === "flag" ? "suspect" : "ham");
const o = (spam: boolean, raw: string, action: Outcome["action"], file = "a.tsv", category: string | null = null): Outcome =>
  ({ spam, raw, file, label: category === "commercial" ? "commercial" : labelOf(action), action, category, model: action !== "allow" });

describe("classFigures", () => {
  it("splits ham by rough kind and reports blocked, flagged and commercial shares", () => {
    const rows = classFigures([
      o(false, "【招商银行】您尾号1234的账户消费56.00元", "allow"),
      o(false, "【招商银行】您尾号1234的账户消费88.00元", "block"),
      o(false, "【悦享超市】会员日全场八折，回T退订", "flag", "a.tsv", "commercial"),
      o(false, "妈，我到家了", "flag"),
      o(true, "代开发票13912345678", "block"),
    ]);
    const get = (label: string, kind: string) => rows.find((r) => r.label === label && r.kind === kind)!;
    expect(get("ham", "all")).toMatchObject({ n: 4, blocked: 0.25, flagged: 0.5, called: 0.75, commercial: 0.25 });
    expect(get("ham", "transactional")).toMatchObject({ n: 2, blocked: 0.5, flagged: 0 });
    expect(get("ham", "commercial")).toMatchObject({ n: 1, commercial: 1 });
    expect(get("ham", "other")).toMatchObject({ n: 1, flagged: 1 });
    expect(get("spam", "all")).toMatchObject({ n: 1, blocked: 1 });
    expect(classTable(rows)).toContain("transactional");
  });

  it("counts the commercial class by the scorer's label, apart from spam and suspect, whatever the policy's action (issue 18)", () => {
    const promo = "【悦享超市】会员日全场八折，回T退订";
    const rows = classFigures([
      { spam: false, raw: promo, file: "a.tsv", label: "commercial", action: "allow", category: "commercial", model: true },
      { spam: false, raw: promo, file: "a.tsv", label: "commercial", action: "block", category: "commercial", model: true },
      { spam: false, raw: "妈，我到家了", file: "a.tsv", label: "suspect", action: "flag", category: null, model: true },
      { spam: false, raw: "代开发票", file: "a.tsv", label: "spam", action: "block", category: "advertising", model: true },
    ]);
    expect(rows.find((r) => r.label === "ham" && r.kind === "all")).toMatchObject({ n: 4, spam: 0.25, suspect: 0.25, commercial: 0.5, blocked: 0.5 });
    const table = classTable(rows).split("\n");
    expect(table[0]).toMatch(/spam\s+suspect\s+commercial\s+blocked/);
  });

  it("adds per-file rows when there are several files, and leaves scorer shares empty without a scorer", () => {
    const rows = classFigures([o(false, "今晚吃什么", null, "x/personal.tsv"), o(false, "明天见", null, "y/notices.tsv")]);
    expect(rows.map((r) => r.file)).toEqual(expect.arrayContaining(["all", "personal.tsv", "notices.tsv"]));
    expect(rows[0]!.blocked).toBeNull();
  });
});
