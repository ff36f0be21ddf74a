import { describe, expect, it } from "vitest";
import { EnvError, parseEnv } from "./env.js";

describe("env", () => {
  it("has defaults for a local run", () => {
    const env = parseEnv({});
    expect(env.API_PORT).toBe(8080);
    expect(env.REVIEW_SLA_HOURS).toBe(48);
    expect(env.COOKIE_SECURE).toBe(false);
  });
  it("fails naming the variable", () => {
    expect(() => parseEnv({ API_PORT: "http" })).toThrow(EnvError);
    expect(() => parseEnv({ API_PORT: "http" })).toThrow(/API_PORT/);
  });
});
