import pino from "pino";
import { describe, expect, it } from "vitest";
import type { Kafka } from "@spam/kafka";
import { messageIdOf, VerdictWaiter, type RelayVerdict } from "./verdicts.js";

const kafka = { consumer: () => ({}) } as unknown as Kafka;
const waiter = (now = () => 1_000) => new VerdictWaiter({ kafka, logger: pino({ level: "silent" }), topic: "t", groupId: "g", alarmMs: 60_000, now });

function verdict(messageId: string, action: "allow" | "flag" | "block", extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(
    JSON.stringify({
      v: 1, id: `v-${messageId}`, messageId, kind: "traffic", receivedAt: 1, scoredAt: 2, source: "+8613800000001", destination: "13900000001",
      score: 0.5, label: "ham", category: null, action, contributions: [], campaignId: null, rulesetVersion: "r", modelVersion: "m", timingsUs: {}, ...extra,
    }),
  );
}

describe("verdict waiter: happy", () => {
  it("hands a held message its verdict once, with the fields the relay needs", () => {
    const w = waiter();
    const got: RelayVerdict[] = [];
    w.expect("m-1", (v) => got.push(v));
    w.onRecord(verdict("m-1", "flag", { campaignId: "c1" }));
    w.onRecord(verdict("m-1", "flag", { campaignId: "c1" }));
    expect(got).toEqual([{ v: 1, messageId: "m-1", kind: "traffic", source: "+8613800000001", action: "flag", campaignId: "c1" }]);
    expect(w.held).toBe(0);
  });

  it("puts the sender of any block verdict under an alarm, by its canonical number, for the alarm window", () => {
    let t = 1_000;
    const w = waiter(() => t);
    w.onRecord(verdict("someone-elses", "block"));
    expect(w.underAlarm("13800000001")).toBe(true);
    t += 60_001;
    expect(w.underAlarm("13800000001")).toBe(false);
  });
});

describe("verdict waiter: errors", () => {
  it("counts and skips records that are not JSON or not verdicts, without throwing", () => {
    const w = waiter();
    const got: RelayVerdict[] = [];
    w.expect("m-2", (v) => got.push(v));
    w.onRecord(Buffer.from('{"messageId":"m-2", broken'));
    w.onRecord(Buffer.from(JSON.stringify({ messageId: "m-2", action: "teleport" })));
    w.onRecord(null);
    expect(got).toEqual([]);
    expect(w.invalid).toBe(2);
  });
});

describe("verdict waiter: security", () => {
  it("reads the message id from the top-level key only: text in a contribution cannot name another message", () => {
    const forged = verdict("m-real", "allow", { contributions: [{ source: "rule", id: "r", score: 1, category: null, detail: '"messageId":"m-victim","action":"block"' }] });
    expect(messageIdOf(forged)).toBe("m-real");
    const w = waiter();
    const victim: RelayVerdict[] = [];
    w.expect("m-victim", (v) => victim.push(v));
    w.onRecord(forged);
    expect(victim).toEqual([]);
    expect(w.underAlarm("13800000001")).toBe(false);
  });
});
