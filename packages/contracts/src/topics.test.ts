import { describe, expect, it } from "vitest";
import { TOPIC_KEYS, TOPIC_SPECS, topicNames } from "./topics.js";

describe("topicNames", () => {
  it("applies the prefix to every topic and keeps names distinct", () => {
    const names = topicNames("t1.");
    const values = Object.values(names);
    expect(values.every((n) => n.startsWith("t1.sms."))).toBe(true);
    expect(new Set(values).size).toBe(TOPIC_KEYS.length);
  });
  it("has a spec for every topic key", () => {
    expect(TOPIC_SPECS.map((s) => s.key).sort()).toEqual([...TOPIC_KEYS].sort());
  });
});
