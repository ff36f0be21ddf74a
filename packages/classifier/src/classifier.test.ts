import { describe, expect, it } from "vitest";
import { categoryGroup, parseLabelledTsv, prepareSegmentedText } from "./data.js";
import { DEFAULT_FEATURE_OPTIONS, FeatureExtractor } from "./features.js";
import { binaryMetrics } from "./metrics.js";
import { loadModelFromString, ModelLoadError, serializeModel } from "./model.js";
import { crossValidate, DEFAULT_PIPELINE_OPTIONS, trainModel, type Example } from "./pipeline.js";
import { fitPlatt, plattProbability } from "./train.js";

const ham = [
  "【工商银行】您尾号1234的储蓄卡支出人民币56.00元，余额789.10元。",
  "验证码123456，五分钟内有效，请勿泄露。",
  "今晚一起吃饭吗？老地方见。",
  "您的快递已到驿站，取件码889900。",
  "明天的会议改到下午三点了，记得带材料。",
  "妈，我周五晚上回家，不用来接。",
  "see you at lunch tomorrow, ok?",
  "i'll call you when i get home",
];
const spam = [
  "无抵押信用贷款，当天放款，详询13912345678",
  "代开各类发票，点数优惠，联系电话13800001111",
  "澳门线上赌场，注册即送888元彩金，网址 bet1234.com",
  "恭喜您中奖苹果手机一部，请点击 xz1234.top 领取",
  "高薪兼职刷单日结，加微信 sd123456",
  "free entry to win a prize! text win to 80086 now",
  "urgent! you have won a cash award, call 09061234567",
  "办理各类证件毕业证，保真可查，联系QQ 123456",
];
const examples: Example[] = [
  ...ham.map((text) => ({ text, spam: false, category: null })),
  ...spam.map((text) => ({ text, spam: true, category: null })),
];
const small = { ...DEFAULT_PIPELINE_OPTIONS, features: { ...DEFAULT_FEATURE_OPTIONS, bits: 14 }, categoryBits: 12, calibrationFolds: 2 };

describe("features", () => {
  it("is deterministic, L2-normalised and masks digits", () => {
    const fx = new FeatureExtractor();
    const a = fx.extract("验证码123456");
    const b = fx.extract("验证码987654");
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    let norm = 0;
    for (const v of a.values) norm += v * v;
    expect(norm).toBeCloseTo(1, 5);
    expect(Array.from(fx.extract("Hello World").indices)).toEqual(Array.from(fx.extract("hello   world").indices));
  });
});

describe("data", () => {
  it("reports malformed lines with their numbers and keeps the rest", () => {
    const p = parseLabelledTsv("ham\tok\nno tab here\nspam\t\nbogus\ttext\nAD_Loan\t贷款 DIGIT 万\n");
    expect(p.rows.map((r) => r.line)).toEqual([1, 5]);
    expect(p.malformed.map((m) => m.line)).toEqual([2, 3, 4]);
    expect(p.rows[1]).toMatchObject({ spam: true, category: "AD_Loan", text: "贷款xx万" });
  });
  it("undoes segmentation and maps groups", () => {
    expect(prepareSegmentedText("详询 PHONE 或 URL")).toBe("详询xxxxxxxxxxx或http://u.cn");
    expect(categoryGroup("FR_Phishing(Bank)")).toBe("fraud");
    expect(categoryGroup("IL_Gambling")).toBe("illegal");
    expect(categoryGroup("AD_Loan")).toBe("advertising");
    expect(categoryGroup("Other")).toBe("other");
  });
});

describe("model", () => {
  it("separates training texts, round-trips through the file format and categorises", () => {
    const cat: Example[] = [
      { text: "贷款xx万当天放款", spam: true, category: "AD_Loan" },
      { text: "低息贷款快速到账", spam: true, category: "AD_Loan" },
      { text: "赌场注册送彩金", spam: true, category: "IL_Gambling" },
      { text: "百家乐首充送彩金", spam: true, category: "IL_Gambling" },
    ];
    const m = trainModel([...examples, ...cat], small);
    const file = serializeModel(m);
    const clf = loadModelFromString(file);
    expect(clf.modelVersion).toMatch(/^[0-9a-f]{16}$/);
    const preds = examples.map((e) => clf.predict(e.text).spamProbability >= 0.5);
    expect(binaryMetrics(examples.map((e) => e.spam), preds).accuracy).toBe(1);
    expect(clf.predict("赌场彩金").category).toBe("illegal");
    // Same weights, same version.
    expect(loadModelFromString(serializeModel(m)).modelVersion).toBe(clf.modelVersion);
  });
  it("rejects a tampered or invalid file", () => {
    const file = JSON.parse(serializeModel(trainModel(examples, small))) as { binary: { bias: number } };
    file.binary.bias += 1;
    expect(() => loadModelFromString(JSON.stringify(file))).toThrow(ModelLoadError);
    expect(() => loadModelFromString("{}")).toThrow(ModelLoadError);
    expect(() => loadModelFromString("not json")).toThrow(ModelLoadError);
  });
  it("cross-validates", () => {
    const r = crossValidate([...examples, ...examples.map((e) => ({ ...e, text: `${e.text}!` }))], [], small, 2, 1, false);
    expect(r.binary?.n).toBe(32);
    expect(r.binary!.accuracy).toBeGreaterThan(0.7);
  });
});

describe("Platt scaling", () => {
  it("maps larger margins to higher probabilities", () => {
    const dec = [-2, -1.5, -1, -0.5, 0.2, 0.5, 1, 1.5, 2, -0.2];
    const lab = [-1, -1, -1, -1, 1, 1, 1, 1, 1, 1];
    const p = fitPlatt(dec, lab);
    expect(plattProbability(p, 2)).toBeGreaterThan(0.8);
    expect(plattProbability(p, -2)).toBeLessThan(0.2);
  });
});
