import { describe, expect, it } from "vitest";
import { maskNumber, maskNumbersInText } from "./privacy.js";
import { csvField, fraudCsv } from "./analytics/csv.js";

describe("masking", () => {
  it("keeps prefix and last two digits of mobile numbers", () => {
    expect(maskNumber("13800138000")).toBe("138******00");
    expect(maskNumber("+8613800138000")).toBe("+86138******00");
    expect(maskNumber("95588")).toBe("9****");
    expect(maskNumber("BANK")).toBe("BANK");
  });
  it("masks numbers inside text", () => {
    expect(maskNumbersInText("回电 138-0013-8000 退款")).toBe("回电 138******00 退款");
    expect(maskNumbersInText("验证码 1234")).toBe("验证码 1234");
  });
});

describe("csv", () => {
  it("quotes, neutralises formulas and masks for analysts", () => {
    expect(csvField('a,"b"')).toBe('"a,""b"""');
    expect(csvField("=HYPERLINK(1)")).toBe("'=HYPERLINK(1)");
    const row = { caseId: "c", sender: "13800138000", category: "fraud", decidedAt: "t", reviewer: "r", reports: 1, recipients: 2, text: "call 13900139000", campaignId: null };
    expect(fraudCsv([row], false)).toContain("138******00");
    expect(fraudCsv([row], false)).not.toContain("13900139000");
    expect(fraudCsv([row], true)).toContain("13800138000");
  });
});
