import { describe, expect, it } from "vitest";
import { decideReport, loneReportStatus, type PendingReportData } from "./flow.js";
import { hashReporter } from "./hash.js";
import { parseReportText } from "./parse.js";
import { PendingReports } from "./pending.js";

function setup(windowMs = 10 * 60_000, maxEntries = 100) {
  let t = 0;
  const pending = new PendingReports<PendingReportData>({ windowMs, maxEntries, now: () => t });
  return { pending, advance: (ms: number) => (t += ms) };
}

describe("decideReport (two-step flow)", () => {
  it("a complete report is parsed and acknowledged", () => {
    const { pending } = setup();
    const d = decideReport("13800000001", "13912345678*贷款", "r1", pending);
    expect(d).toMatchObject({ status: "parsed", reportedNumber: "13912345678", content: "贷款", reply: "ack", parseError: null });
    expect(pending.size).toBe(0);
  });

  it("content only opens a pending report and asks for the number; the number completes it", () => {
    const { pending, advance } = setup();
    const first = decideReport("13800000001", "您的快递丢失，点击理赔", "r1", pending);
    expect(first).toMatchObject({ status: "pending_number", reportedNumber: null, content: "您的快递丢失，点击理赔", reply: "ask_number" });
    advance(60_000);
    const second = decideReport("13800000001", "＋８６ 139-1234-5678", "r2", pending);
    expect(second).toMatchObject({
      status: "completed_two_step",
      reportedNumber: "13912345678",
      content: "您的快递丢失，点击理赔",
      completesReportId: "r1",
      reply: "ack",
    });
    expect(pending.size).toBe(0);
  });

  it("another reporter's number does not complete someone else's report", () => {
    const { pending } = setup();
    decideReport("13800000001", "中奖通知", "r1", pending);
    expect(decideReport("13800000002", "13912345678", "r2", pending)).toMatchObject({ status: "unparseable", errorCode: "number_without_pending" });
    expect(decideReport("13800000001", "13912345678", "r3", pending)).toMatchObject({ status: "completed_two_step" });
  });

  it("a number after the window is unparseable with format help", () => {
    const { pending, advance } = setup(5 * 60_000);
    decideReport("13800000001", "中奖通知", "r1", pending);
    advance(5 * 60_000 + 1);
    const d = decideReport("13800000001", "13912345678", "r2", pending);
    expect(d).toMatchObject({ status: "unparseable", reply: "format_help", reportedNumber: "13912345678", completesReportId: null });
    expect(d.parseError).toMatch(/number_without_pending/);
  });

  it("a number with nothing pending is unparseable with format help", () => {
    const { pending } = setup();
    expect(decideReport("13800000001", "13912345678", "r1", pending)).toMatchObject({
      status: "unparseable",
      errorCode: "number_without_pending",
      reply: "format_help",
    });
  });

  it("a second content-only message replaces the pending content", () => {
    const { pending } = setup();
    decideReport("13800000001", "第一条", "r1", pending);
    decideReport("13800000001", "第二条", "r2", pending);
    expect(decideReport("13800000001", "13912345678", "r3", pending)).toMatchObject({ content: "第二条", completesReportId: "r2" });
  });

  it("help and a greeting get the format help, not the question for a number", () => {
    const pending = new PendingReports<PendingReportData>({ windowMs: 60_000, maxEntries: 10 });
    expect(decideReport("13800000001", "帮助", "r1", pending)).toMatchObject({ status: "unparseable", errorCode: "help", reply: "format_help" });
    expect(decideReport("13800000001", "hello", "r2", pending)).toMatchObject({ status: "unparseable", errorCode: "not_content", reply: "format_help" });
    expect(pending.take("13800000001")).toBeUndefined();
  });

  it("garbage and empty are unparseable with the error kept", () => {
    const { pending } = setup();
    expect(decideReport("13800000001", "？？", "r1", pending)).toMatchObject({ status: "unparseable", errorCode: "garbage", reply: "format_help" });
    expect(decideReport("13800000001", "", "r2", pending)).toMatchObject({ status: "unparseable", errorCode: "empty" });
    expect(decideReport("13800000001", "1391234*贷款", "r3", pending)).toMatchObject({ errorCode: "invalid_number", content: "贷款" });
  });

  it("a complete report leaves a pending one in place", () => {
    const { pending } = setup();
    decideReport("13800000001", "中奖通知", "r1", pending);
    decideReport("13800000001", "95588*账户冻结", "r2", pending);
    expect(pending.size).toBe(1);
  });

  it("loneReportStatus maps each parser status onto ReportV1", () => {
    expect(loneReportStatus(parseReportText("13912345678*x中奖"))).toBe("parsed");
    expect(loneReportStatus(parseReportText("中奖"))).toBe("pending_number");
    expect(loneReportStatus(parseReportText("13912345678"))).toBe("unparseable");
    expect(loneReportStatus(parseReportText(""))).toBe("unparseable");
  });
});

describe("PendingReports", () => {
  it("is bounded: the oldest reporter is forgotten first", () => {
    const { pending } = setup(60_000, 2);
    pending.open("a", { reportId: "1", content: "x" });
    pending.open("b", { reportId: "2", content: "x" });
    pending.open("c", { reportId: "3", content: "x" });
    expect(pending.size).toBe(2);
    expect(pending.take("a")).toBeUndefined();
    expect(pending.take("c")?.data.reportId).toBe("3");
  });

  it("re-opening moves a reporter to the back of the eviction order", () => {
    const { pending } = setup(60_000, 2);
    pending.open("a", { reportId: "1", content: "x" });
    pending.open("b", { reportId: "2", content: "x" });
    pending.open("a", { reportId: "3", content: "x" });
    pending.open("c", { reportId: "4", content: "x" });
    expect(pending.peek("b")).toBeUndefined();
    expect(pending.peek("a")?.data.reportId).toBe("3");
  });

  it("sweeps expired entries", () => {
    const { pending, advance } = setup(1_000);
    pending.open("a", { reportId: "1", content: "x" });
    advance(500);
    pending.open("b", { reportId: "2", content: "x" });
    advance(600);
    expect(pending.sweep()).toBe(1);
    expect(pending.size).toBe(1);
  });

  it("rejects nonsensical bounds", () => {
    expect(() => new PendingReports({ windowMs: 0, maxEntries: 1 })).toThrow(RangeError);
  });
});

describe("hashReporter", () => {
  const key = "0123456789abcdef-test-key";
  it("is a keyed, stable hex digest", () => {
    const h = hashReporter("13800000001", key);
    expect(h).toMatch(/^[0-9a-f]{32}$/);
    expect(hashReporter("13800000001", key)).toBe(h);
    expect(hashReporter("13800000001", key + "x")).not.toBe(h);
    expect(hashReporter("13800000002", key)).not.toBe(h);
    expect(h).not.toContain("13800000001");
  });
  it("hashes all forms of the same number alike", () => {
    const h = hashReporter("13800000001", key);
    expect(hashReporter("+8613800000001", key)).toBe(h);
    expect(hashReporter("008613800000001", key)).toBe(h);
  });
  it("refuses a short key", () => {
    expect(() => hashReporter("13800000001", "short")).toThrow(RangeError);
  });
});
