import { describe, expect, it } from "vitest";
import { CliUsageError, parseReportCommand } from "./cli.js";

describe("parseReportCommand", () => {
  it("prints JSON with number, content, status and error", () => {
    const out = JSON.parse(parseReportCommand(["--text", "举报：＋８６ １３９１２３４５６７８＊中奖啦", "--json"]));
    expect(out).toEqual({
      reportedNumber: "13912345678",
      content: "中奖啦",
      status: "complete",
      reportStatus: "parsed",
      numberKind: "mobile",
      error: null,
    });
  });
  it("prints the error for garbage", () => {
    const out = JSON.parse(parseReportCommand(["--json", "--text=???"]));
    expect(out).toMatchObject({ status: "error", reportStatus: "unparseable", error: { code: "garbage" } });
  });
  it("has a human form", () => {
    expect(parseReportCommand(["--text", "中奖了"])).toContain("content_only");
  });
  it("rejects bad arguments", () => {
    expect(() => parseReportCommand([])).toThrow(CliUsageError);
    expect(() => parseReportCommand(["--text"])).toThrow(CliUsageError);
    expect(() => parseReportCommand(["--bogus"])).toThrow(CliUsageError);
  });
});
