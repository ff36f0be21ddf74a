import { describe, expect, it } from "vitest";
import type { DeadLetter } from "@spam/contracts";
import { redactDeadLetter, redactNumbers } from "./redact.js";

const letter = (value: unknown, key: string | null = null, error = "bad"): DeadLetter => ({
  v: 1,
  sourceTopic: "sms.reports",
  partition: 0,
  offset: "7",
  key,
  valueBase64: Buffer.from(typeof value === "string" ? value : JSON.stringify(value)).toString("base64"),
  error,
  service: "decider",
  failedAt: 0,
});
const decoded = (d: DeadLetter) => Buffer.from(d.valueBase64!, "base64").toString("utf8");

describe("dead-letter redaction", () => {
  it("masks reporters' and recipients' numbers in a JSON record and keeps its shape", () => {
    const d = redactDeadLetter(letter({ v: 1, id: "r1", reporterMsisdn: "13800138000", to: "+8613912345678", rawText: "13712345678*中奖了", n: 5 }, "13800138000"));
    const value = JSON.parse(decoded(d)) as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(["v", "id", "reporterMsisdn", "to", "rawText", "n"]);
    expect(value).toMatchObject({ v: 1, id: "r1", reporterMsisdn: "138********", to: "+861**********", n: 5 });
    expect(value["rawText"]).toBe("137********\u002a中奖了");
    expect(d.key).toBe("138********");
    for (const number of ["13800138000", "13912345678", "13712345678", "0013800"]) expect(decoded(d)).not.toContain(number);
  });

  it("masks numbers in a record that is not JSON, and in the error text", () => {
    const d = redactDeadLetter(letter("{not json 13800138000", null, "expected string, received 13800138000"));
    expect(decoded(d)).toBe("{not json 138********");
    expect(d.error).toBe("expected string, received 138********");
  });

  it("masks numbers written with separators or full-width digits", () => {
    for (const n of ["138 0013 8000", "138-0013-8000", "138.0013.8000", "１３８００１３８０００", "138\u200b0013\u200b8000"]) {
      expect(redactNumbers(`call ${n} now`)).not.toMatch(/0013|００１３/);
    }
  });

  it("leaves short numbers, ids and amounts alone", () => {
    expect(redactNumbers("report r-12 of 10086 offset 123456")).toBe("report r-12 of 10086 offset 123456");
  });
});
