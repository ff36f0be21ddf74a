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
  it("trusts no proxy unless told which, and has ASVS defaults for sessions", () => {
    const env = parseEnv({});
    expect(env.TRUST_PROXY).toBe(false);
    expect(env.SESSION_IDLE_MINUTES).toBe(30);
    expect(env.LOGIN_LOCKOUT_THRESHOLD).toBe(5);
    expect(parseEnv({ TRUST_PROXY: "10.0.0.1, 10.1.0.0/16" }).TRUST_PROXY).toEqual(["10.0.0.1", "10.1.0.0/16"]);
    expect(parseEnv({ TRUST_PROXY: "true" }).TRUST_PROXY).toBe(true);
    expect(() => parseEnv({ SESSION_IDLE_MINUTES: "0" })).toThrow(/SESSION_IDLE_MINUTES/);
  });
  it("reads brokers, booleans and the log level with the shared runtime's schemas, and has a stop timeout", () => {
    expect(parseEnv({}).KAFKA_BROKERS).toEqual([]);
    expect(parseEnv({ KAFKA_BROKERS: "a:1, b:2" }).KAFKA_BROKERS).toEqual(["a:1", "b:2"]);
    expect(parseEnv({ CASE_INTAKE: "0" }).CASE_INTAKE).toBe(false);
    expect(parseEnv({}).API_STOP_TIMEOUT_MS).toBe(30_000);
    expect(() => parseEnv({ LOG_LEVEL: "loud" })).toThrow(/LOG_LEVEL/);
    expect(() => parseEnv({ CASE_INTAKE: "yes" })).toThrow(/CASE_INTAKE/);
  });
});
