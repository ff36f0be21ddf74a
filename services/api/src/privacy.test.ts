import { describe, expect, it } from "vitest";
import { csvField, fraudCsv } from "./analytics/csv.js";

describe("csv", () => {
  it("quotes, neutralises formulas and masks by the role's export policy", () => {
    expect(csvField('a,"b"')).toBe('"a,""b"""');
    expect(csvField("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    const row = { caseId: "c", sender: "13800138000", category: "FR_Financial", decidedAt: "t", reviewer: "r", reports: 1, recipients: 2, text: "call １３９ ００１３ ９０００", campaignId: null };
    expect(fraudCsv([row], "analyst")).toContain("138******00");
    expect(fraudCsv([row], "analyst")).not.toContain("13800138000");
    expect(fraudCsv([row], "analyst")).toContain("call 139******00");
    expect(fraudCsv([row], "admin")).toContain("13800138000");
    expect(() => fraudCsv([row], "reviewer")).toThrow();
  });
});
