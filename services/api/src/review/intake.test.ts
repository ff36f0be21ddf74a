import { describe, expect, it } from "vitest";
import { flaggedVerdict } from "../testing/fixtures.js";
import { caseFromVerdict } from "./intake.js";

describe("case intake of commercial verdicts (issue 18)", () => {
  const promo = { label: "commercial" as const, category: "commercial", score: 0.97, campaignId: "cmp-promo" };
  it("opens a message and a campaign case when the operator's policy flags commercial messages", () => {
    const { message, campaign } = caseFromVerdict(flaggedVerdict({ ...promo, action: "flag" }));
    expect(message).toMatchObject({ kind: "message", category: "commercial", modelLabel: "commercial" });
    expect(campaign).toMatchObject({ kind: "campaign", campaignId: "cmp-promo" });
  });
  it("opens nothing when the policy allows them, and only the campaign case when it blocks them", () => {
    expect(caseFromVerdict(flaggedVerdict({ ...promo, action: "allow" }))).toEqual({ message: null, campaign: null });
    const blocked = caseFromVerdict(flaggedVerdict({ ...promo, action: "block" }));
    expect(blocked.message).toBeNull();
    expect(blocked.campaign).toMatchObject({ kind: "campaign", category: "commercial" });
  });
});
