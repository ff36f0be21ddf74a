import { logLevel } from "kafkajs";
import { describe, expect, it } from "vitest";
import { kafkaLogLevel } from "./client.js";

describe("kafkajs log levels", () => {
  it("logs the broker's start-up and rebalance answers, which kafkajs retries itself, as debug", () => {
    for (const error of [
      "There is no leader for this topic-partition as we are in the middle of a leadership election",
      "The group coordinator is not available",
      "This is not the correct coordinator for this group",
      "The group is rebalancing, so a rejoin is needed",
    ]) {
      expect(kafkaLogLevel(logLevel.ERROR, { error })).toBe("debug");
    }
  });

  it("keeps every other error and warning at its level", () => {
    expect(kafkaLogLevel(logLevel.ERROR, { error: "Connection error: connect ECONNREFUSED 127.0.0.1:19092" })).toBe("error");
    expect(kafkaLogLevel(logLevel.ERROR, {})).toBe("error");
    expect(kafkaLogLevel(logLevel.WARN, { error: "Request timed out" })).toBe("warn");
    expect(kafkaLogLevel(logLevel.INFO, { error: "The group coordinator is not available" })).toBe("info");
  });
});
