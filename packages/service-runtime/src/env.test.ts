import { describe, expect, it } from "vitest";
import { z } from "zod";
import { EnvError, envSchemas, parseEnv } from "./env.js";

describe("parseEnv", () => {
  const shape = { PORT: z.coerce.number().int().min(1), KAFKA_BROKERS: envSchemas.brokers, DEBUG: envSchemas.bool.default("0") };

  it("parses and transforms values", () => {
    const env = parseEnv(shape, { PORT: "2775", KAFKA_BROKERS: "a:1, b:2" });
    expect(env).toEqual({ PORT: 2775, KAFKA_BROKERS: ["a:1", "b:2"], DEBUG: false });
  });

  it("fails naming every bad variable", () => {
    try {
      parseEnv(shape, { PORT: "zero" });
      expect.fail("should have thrown");
    } catch (e) {
      expect(e).toBeInstanceOf(EnvError);
      expect((e as EnvError).variables).toEqual(["PORT", "KAFKA_BROKERS"]);
      expect((e as EnvError).message).toContain("PORT");
    }
  });

  it("reads an optional broker list: absent or empty is none", () => {
    const optional = { KAFKA_BROKERS: envSchemas.optionalBrokers };
    expect(parseEnv(optional, {}).KAFKA_BROKERS).toEqual([]);
    expect(parseEnv(optional, { KAFKA_BROKERS: "" }).KAFKA_BROKERS).toEqual([]);
    expect(parseEnv(optional, { KAFKA_BROKERS: "a:1,,b:2 " }).KAFKA_BROKERS).toEqual(["a:1", "b:2"]);
  });
});
