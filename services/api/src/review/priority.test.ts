import { describe, expect, it } from "vitest";
import { ageFactor, priority, reach, uncertainty } from "./priority.js";

describe("queue priority", () => {
  it("is highest when the model cannot tell", () => {
    expect(uncertainty(0.5)).toBe(1);
    expect(uncertainty(0.9)).toBeCloseTo(0.2);
    expect(uncertainty(1)).toBe(0.1);
    expect(uncertainty(0)).toBe(0.1);
  });

  it("weighs reports more than recipients and grows slowly with reach", () => {
    expect(reach(0, 1)).toBeGreaterThan(reach(4, 0));
    expect(reach(10_000, 0) / reach(10, 0)).toBeLessThan(4);
  });

  it("raises cases as they approach and pass the SLA, then caps", () => {
    expect(ageFactor(0, 48)).toBe(1);
    expect(ageFactor(48, 48)).toBe(4);
    expect(ageFactor(96, 48)).toBe(7);
    expect(ageFactor(500, 48)).toBe(7);
  });

  it("ranks an old reported uncertain case above a fresh confident one", () => {
    const old = priority({ score: 0.55, recipients: 3, reports: 2, ageHours: 40 }, 48);
    const fresh = priority({ score: 0.95, recipients: 3, reports: 0, ageHours: 0.1 }, 48);
    expect(old).toBeGreaterThan(fresh * 5);
  });
});
