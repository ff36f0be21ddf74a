import { ProtocolError, NetworkError, UserError } from "@platformatic/kafka";
import { describe, expect, it } from "vitest";
import { isRetriable, KafkaModuleError } from "./errors.js";
import { consumerGroup } from "./topics.js";

describe("consumerGroup", () => {
  it("spells every group as prefix, service and purpose", () => {
    expect(consumerGroup("", "decider", "reports")).toBe("decider.reports");
    expect(consumerGroup("run-1.", "sink", "verdicts")).toBe("run-1.sink.verdicts");
    expect(consumerGroup("run-1.", "scorer")).toBe("run-1.scorer");
  });

  it("refuses a group without a service name", () => {
    expect(() => consumerGroup("p.", "", "x")).toThrow(RangeError);
  });
});

describe("isRetriable", () => {
  it("retries network errors and the broker's not-yet answers, not the rest", () => {
    expect(isRetriable(new NetworkError("connection refused"))).toBe(true);
    expect(isRetriable(new ProtocolError("NOT_LEADER_OR_FOLLOWER"))).toBe(true);
    expect(isRetriable(new ProtocolError("TOPIC_AUTHORIZATION_FAILED"))).toBe(false);
    expect(isRetriable(new UserError("bad option"))).toBe(false);
    expect(isRetriable(new Error("plain"))).toBe(false);
    expect(isRetriable("not an error")).toBe(false);
  });

  it("carries the cause's verdict onto this module's errors", () => {
    expect(new KafkaModuleError("topics_not_ready", "x", { cause: new ProtocolError("LEADER_NOT_AVAILABLE") }).retriable).toBe(true);
    expect(new KafkaModuleError("send_failed", "x", { cause: new UserError("y") }).retriable).toBe(false);
  });
});
