import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPLY_KINDS, REPORT_VERIFICATIONS } from "@spam/contracts";
import { describe, expect, it } from "vitest";
import { createReplyTemplates, defaultReplyTemplatesPath, loadReplyTemplates, renderReply, ReplyTemplateError } from "./templates.js";
import { outcomeReplyKind } from "./outcome.js";

const all = { reportId: "R20261123-0001", reportedNumber: "13912345678", shortCode: "10086999", windowMinutes: 10 };

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof ReplyTemplateError) return e.code;
    throw e;
  }
  return undefined;
}

describe("rules/replies/zh-CN.json", () => {
  it("has every reply kind and renders each in Chinese", () => {
    const t = loadReplyTemplates(defaultReplyTemplatesPath());
    expect(t.locale).toBe("zh-CN");
    for (const kind of REPLY_KINDS) expect(t.render(kind, all)).toMatch(/[\u4e00-\u9fff]/);
  });

  it("the acknowledgement carries the report id", () => {
    expect(renderReply("ack", all)).toContain("您的举报已受理，编号R20261123-0001");
  });

  it("fails clearly on a missing variable", () => {
    expect(codeOf(() => renderReply("ack", { reportedNumber: "13912345678" }))).toBe("missing_variable");
    expect(() => renderReply("ack", { reportedNumber: "1" })).toThrow(/\{reportId\}/);
  });
});

describe("createReplyTemplates", () => {
  const good = {
    locale: "zh-CN",
    templates: Object.fromEntries(REPLY_KINDS.map((k) => [k, `${k}:{reportId}`])),
  };

  it("rejects a file missing a kind", () => {
    const { ack: _ack, ...rest } = good.templates;
    expect(codeOf(() => createReplyTemplates({ ...good, templates: rest }))).toBe("invalid_file");
  });

  it("rejects an unknown kind and an empty template", () => {
    expect(codeOf(() => createReplyTemplates({ ...good, templates: { ...good.templates, extra: "x" } }))).toBe("invalid_file");
    expect(codeOf(() => createReplyTemplates({ ...good, templates: { ...good.templates, ack: "" } }))).toBe("invalid_file");
  });

  it("rejects an unknown placeholder at load time", () => {
    const bad = { ...good, templates: { ...good.templates, ack: "编号{reportID}" } };
    expect(codeOf(() => createReplyTemplates(bad))).toBe("unknown_variable");
  });

  it("lists the variables each template uses", () => {
    expect(createReplyTemplates(good).variables.ack).toEqual(["reportId"]);
  });

  it("reports a broken file with its path", () => {
    const dir = mkdtempSync(join(tmpdir(), "replies-"));
    const p = join(dir, "broken.json");
    writeFileSync(p, "{ not json");
    expect(() => loadReplyTemplates(p)).toThrow(/broken\.json/);
  });

  it("refuses a rendering longer than an outbound reply may be", () => {
    const t = createReplyTemplates(good);
    expect(codeOf(() => t.render("ack", { reportId: "x".repeat(2_100) }))).toBe("too_long");
  });
});

describe("outcomeReplyKind (issue 19)", () => {
  it("claims a verified report only for a reporter whose report was verified", () => {
    expect(outcomeReplyKind("blocked", "verified")).toBe("outcome_blocked");
    for (const v of ["unverified", "fabricated", "not_checkable", null] as const) expect(outcomeReplyKind("blocked", v)).toBe("outcome_blocked_unverified");
    for (const v of ["verified", "fabricated", null] as const) expect(outcomeReplyKind("not_confirmed", v)).toBe("outcome_not_confirmed");
  });

  it("covers every verification state: only a verified report is told it was verified as spam", () => {
    for (const v of REPORT_VERIFICATIONS) {
      const text = renderReply(outcomeReplyKind("blocked", v), all);
      if (v === "verified") expect(text).toContain("经核实为垃圾短信");
      else expect(text).not.toContain("经核实为垃圾短信");
      expect(renderReply(outcomeReplyKind("not_confirmed", v), all)).not.toContain("经核实为垃圾短信");
    }
  });

  it("the blocked-on-other-evidence text never says the report was verified as spam", () => {
    const text = renderReply("outcome_blocked_unverified", all);
    expect(text).toContain("编号R20261123-0001");
    expect(text).not.toContain("经核实为垃圾短信");
    expect(text).toContain("未能");
    expect(renderReply("outcome_blocked", all)).toContain("经核实为垃圾短信");
  });
});
