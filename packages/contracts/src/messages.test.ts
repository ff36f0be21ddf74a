import { describe, expect, it } from "vitest";
import { ControlCommandV1, ModelControlV1, RulesControlV1, VERDICT_ACTIONS, VERDICT_LABELS, VerdictV1 } from "./messages.js";

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

describe("learning-loop additions to v1 (optional, additive)", () => {
  it("a verdict may carry a shadow model's decision; one without it parses as before", () => {
    const shadow = { modelVersion: "0123456789abcdef", score: 0.4, label: "suspect", action: "flag" };
    expect(VerdictV1.parse({ ...verdict, shadow }).shadow).toEqual(shadow);
    expect(VerdictV1.parse(verdict)).not.toHaveProperty("shadow");
    expect(VerdictV1.safeParse({ ...verdict, shadow: { ...shadow, label: "maybe" } }).success).toBe(false);
  });

  it("the control topic carries rule reloads and model commands; a model id is a content hash, nothing else", () => {
    const reload = { v: 1, command: "reload", requestedAt: 1, requestedBy: "ops" };
    const models = { v: 1, command: "models", live: "0123456789abcdef", shadow: null, requestedAt: 1, requestedBy: "admin:ann" };
    expect(ControlCommandV1.parse(reload)).toEqual(reload);
    expect(ControlCommandV1.parse(models)).toEqual(models);
    expect(RulesControlV1.safeParse(models).success).toBe(false); // an older scorer dead-letters it
    for (const live of ["../../etc/passwd", "ABCDEF0123456789", "abc"]) expect(ModelControlV1.safeParse({ ...models, live }).success).toBe(false);
  });
});
