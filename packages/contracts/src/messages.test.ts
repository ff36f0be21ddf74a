import { describe, expect, it } from "vitest";
import { VERDICT_ACTIONS, VERDICT_LABELS, VerdictV1 } from "./messages.js";

const verdict = {
  v: 1, id: "v-1", messageId: "m-1", kind: "traffic", receivedAt: 1, scoredAt: 2, source: "1069012345", destination: "13900001111",
  score: 0.9, label: "commercial", category: "commercial", action: "flag", contributions: [], campaignId: null,
  rulesetVersion: "r", modelVersion: "m", timingsUs: {},
};

describe("verdict labels", () => {
  it("have commercial as a class of its own, beside spam, suspect and ham", () => {
    expect(VERDICT_LABELS).toEqual(expect.arrayContaining(["ham", "suspect", "spam", "commercial"]));
    expect(new Set(VERDICT_LABELS).size).toBe(VERDICT_LABELS.length);
  });

  it("accept a commercial verdict with any of the operator's actions, and nothing outside the closed set", () => {
    for (const action of VERDICT_ACTIONS) expect(VerdictV1.safeParse({ ...verdict, action }).success).toBe(true);
    expect(VerdictV1.safeParse({ ...verdict, label: "promotion" }).success).toBe(false);
  });
});
