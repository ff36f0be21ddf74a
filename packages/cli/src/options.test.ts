import { describe, expect, it } from "vitest";
import { normalize } from "@spam/normalize";
import { UsageError } from "./command.js";
import { pipelineOptions, relabelled, trainingRelabel } from "./options.js";

const row = (raw: string, spam: boolean) => ({ text: normalize(raw).text, raw, spam, category: null });
const promotion = row("【优品生活】会员日全场五折，详情见app，回T退订", false);
const notice = row("【工商银行】您尾号1234的储蓄卡支出人民币56.00元，余额789.10元。", false);
const spam = row("无抵押信用贷款，当天放款，详询13912345678", true);

describe("training relabels", () => {
  it("--commercial-out leaves brand promotions labelled ham out of training and keeps every other row", () => {
    expect(relabelled([promotion, notice, spam], trainingRelabel({ "commercial-out": true }))).toEqual([notice, spam]);
  });
  it("--commercial-as-spam trains them as spam; neither flag keeps the rows as they are", () => {
    expect(relabelled([promotion, notice], trainingRelabel({ "commercial-as-spam": true })).map((e) => e.spam)).toEqual([true, false]);
    expect(relabelled([promotion, notice], trainingRelabel({}))).toEqual([promotion, notice]);
  });
  it("refuses both at once, and a category balance outside 0…1", () => {
    expect(() => trainingRelabel({ "commercial-as-spam": true, "commercial-out": true })).toThrow(UsageError);
    expect(() => pipelineOptions({ "category-balance": "2" })).toThrow(UsageError);
    expect(pipelineOptions({ "category-balance": "0" }).categoryBalance).toBe(0);
  });
});
