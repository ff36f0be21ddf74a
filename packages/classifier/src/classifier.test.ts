import { describe, expect, it } from "vitest";
import { categoryGroup } from "@spam/contracts";
import { parseLabelledTsv, prepareSegmentedText } from "./data.js";
import { DEFAULT_FEATURE_OPTIONS, FeatureExtractor, idfTable, LATIN_TAG, weighTerms } from "./features.js";
import { binaryMetrics } from "./metrics.js";
import { graftLatinSide, loadModelFromString, ModelLoadError, serializeModel, SpamClassifier } from "./model.js";
import { crossValidate, DEFAULT_PIPELINE_OPTIONS, trainModel, type Example } from "./pipeline.js";
import { buildDataset, fitPlatt, plattProbability } from "./train.js";
import { hasCjk, isLatinScript } from "./script.js";

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
/** The joint fit with token n-grams (model e6a8517f's options): most tests below describe that mode. */
const small = {
  ...DEFAULT_PIPELINE_OPTIONS,
  features: { ...DEFAULT_FEATURE_OPTIONS, bits: 14, latinViews: false },
  categoryBits: 12,
  calibrationFolds: 2,
  separateLatin: false,
  cjkTransfer: false,
};

describe("features", () => {
  it("is deterministic, L2-normalised and masks digits", () => {
    const fx = new FeatureExtractor();
    const a = fx.extract("验证码123456");
    const b = fx.extract("验证码987654");
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    let norm = 0;
    for (const v of a.values) norm += v * v;
    expect(norm).toBeCloseTo(1, 5);
    const tokens = new FeatureExtractor(TOKEN_MODE);
    expect(Array.from(tokens.extract("Hello World").indices)).toEqual(Array.from(tokens.extract("hello   world").indices));
  });
});

/** The Latin-script features of the shipped model (token n-grams), and the latinViews alternative. */
const TOKEN_MODE = { ...DEFAULT_FEATURE_OPTIONS, latinViews: false };
const VIEWS = { ...DEFAULT_FEATURE_OPTIONS, latinViews: true };

describe("digits: one form for masked training text and real digits", () => {
  const same = (fx: FeatureExtractor, a: string, b: string): void => {
    const va = fx.extract(a);
    const vb = fx.extract(b);
    expect(Array.from(va.indices)).toEqual(Array.from(vb.indices));
    expect(Array.from(va.values)).toEqual(Array.from(vb.values));
  };
  it("maps real digits to the x the Chinese set masks them with", () => {
    same(new FeatureExtractor(), "您尾号1234的卡12月5日支出56.00元", "您尾号xxxx的卡xx月x日支出xx.xx元");
  });
  it("with digitRunMax, cuts long digit runs in CJK messages only", () => {
    const fx = new FeatureExtractor({ ...DEFAULT_FEATURE_OPTIONS, digitRunMax: 4 });
    same(fx, "运单号1234567890123已签收", "运单号xxxx已签收");
    same(fx, "运单号12345已签收", "运单号xxxxxxxx已签收");
    expect(Array.from(fx.extract("运单号12已签收").indices)).not.toEqual(Array.from(fx.extract("运单号1234已签收").indices));
    // Latin-script messages keep their digits (the English set has real ones).
    expect(Array.from(fx.extract("call 09061234567 now").indices)).not.toEqual(Array.from(fx.extract("call 0906 now").indices));
  });
});

describe("token n-grams and IDF (Latin-script messages)", () => {
  const plain = { ...DEFAULT_FEATURE_OPTIONS, tokenNgramMin: 0, tokenNgramMax: 0, idf: false, latinViews: false };
  const ids = (fx: FeatureExtractor, t: string): number[] => Array.from(fx.extract(t).indices);

  it("keeps digits in Latin tokens, so a premium number differs from a time of day", () => {
    const fx = new FeatureExtractor(TOKEN_MODE);
    expect(ids(fx, "call 09061701461 now")).not.toEqual(ids(fx, "call 12301701461 now"));
    // Without token n-grams every digit is masked and both look alike.
    const off = new FeatureExtractor(plain);
    expect(ids(off, "call 09061701461 now")).toEqual(ids(off, "call 12301701461 now"));
  });

  it("sees punctuation inside tokens: £1.50 is not 1.50 and not £150", () => {
    const fx = new FeatureExtractor(TOKEN_MODE);
    const a = new Set(ids(fx, "only £1.50/wk"));
    expect(ids(fx, "only 1.50/wk").every((j) => a.has(j))).toBe(false);
    expect(ids(fx, "only £150/wk")).not.toEqual([...a]);
  });

  it("leaves messages with CJK characters exactly as without the option", () => {
    const fx = new FeatureExtractor(TOKEN_MODE);
    const off = new FeatureExtractor({ ...TOKEN_MODE, tokenNgramMin: 0, tokenNgramMax: 0 });
    for (const t of ["验证码123456，五分钟内有效", "点击 http://xz1234.top 领取 iphone", "qq 123456 加我"]) {
      const a = fx.extract(t);
      const b = off.extract(t);
      expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
      expect(Array.from(a.values)).toEqual(Array.from(b.values));
    }
    // A Latin-script message gets the extra n-grams.
    expect(fx.extract("free entry! txt win to 80086").length).toBeGreaterThan(off.extract("free entry! txt win to 80086").length);
  });

  it("tags only Latin-script counts; IDF comes from those rows and down-weighs common terms", () => {
    const fx = new FeatureExtractor({ ...TOKEN_MODE, bits: 14 });
    const en = ["ok see you", "ok call me", "ok txt win now"].map((t) => fx.extractCounts(t));
    const zh = fx.extractCounts("今晚一起吃饭吗");
    expect(Array.from(en[0]!.indices).every((j) => (j & LATIN_TAG) !== 0)).toBe(true);
    expect(Array.from(zh.indices).every((j) => (j & LATIN_TAG) === 0)).toBe(true);
    const d = buildDataset([...en, zh]);
    const idf = idfTable(d, [0, 1, 2, 3], 14);
    // 3 Latin rows: a term in all of them (" ok") weighs 1, one in a single row ("txt") ln(4/2) + 1,
    // a bucket only the CJK row has is as unseen: ln(4) + 1.
    const w = Array.from(en[2]!.indices, (j) => idf[j & ~LATIN_TAG]!);
    expect(Math.min(...w)).toBeCloseTo(1, 5);
    expect(Math.max(...w)).toBeCloseTo(Math.log(2) + 1, 5);
    const zhOnly = Array.from(zh.indices).filter((j) => !en.some((r) => Array.from(r.indices).some((k) => (k & ~LATIN_TAG) === j)));
    expect(zhOnly.length).toBeGreaterThan(0);
    for (const j of zhOnly) expect(idf[j]).toBeCloseTo(Math.log(4) + 1, 5);
    // Weighing strips the tags and normalises; CJK rows are not IDF-weighted.
    const row = fx.extractCounts("今晚一起吃饭吗");
    const plainRow = new FeatureExtractor({ ...TOKEN_MODE, bits: 14 }).extract("今晚一起吃饭吗");
    weighTerms(row.indices, row.values, row.length, true, idf);
    expect(Array.from(row.values)).toEqual(Array.from(plainRow.values));
    const tagged = fx.extractCounts("ok txt win now");
    weighTerms(tagged.indices, tagged.values, tagged.length, true, idf);
    expect(Array.from(tagged.indices).every((j) => (j & LATIN_TAG) === 0)).toBe(true);
    let norm = 0;
    for (const v of tagged.values) norm += v * v;
    expect(norm).toBeCloseTo(1, 5);
  });

  it("stores the IDF table in the model file and scores the same after loading", () => {
    const en: Example[] = [
      ...["see you at lunch", "ok i'll call you later", "where are you now?", "sorry, running late"].map((text) => ({ text, spam: false, category: null })),
      ...["free entry! txt win to 80086", "urgent! call 09061701461 to claim £900", "you have won £1000 cash, call 09050000301", "txt stop to 87239 to end"].map(
        (text) => ({ text, spam: true, category: null }),
      ),
    ];
    const m = trainModel([...examples, ...en], small);
    expect(m.idf).not.toBeNull();
    const clf = loadModelFromString(serializeModel(m));
    const direct = new SpamClassifier(m, "in-memory", "now");
    // The file's quantised weights and IDF score like the in-memory model.
    for (const e of en) expect(clf.predict(e.text).decision).toBeCloseTo(direct.predict(e.text).decision, 2);
    // Training texts are separated (SVM margin), spam above ham.
    const margins = en.map((e) => clf.predict(e.text).decision);
    expect(Math.min(...margins.slice(4))).toBeGreaterThan(Math.max(...margins.slice(0, 4)));
    // A file that claims IDF but has no table is refused.
    const file = JSON.parse(serializeModel(m)) as { idf: unknown };
    file.idf = null;
    expect(() => loadModelFromString(JSON.stringify(file))).toThrow(ModelLoadError);
  });

  /** 24 rows of each class in each script (English ham/spam, Chinese ham/spam). */
  const mixedScriptRows = (): Example[] => {
    const rows: Example[] = [];
    for (let i = 0; i < 24; i++) {
      rows.push({ text: `ok see you at ${i} pm, bring the book`, spam: false, category: null });
      rows.push({ text: `free prize! txt win${i} to 8${i}066 now, £${i}.50/wk`, spam: true, category: null });
      rows.push({ text: `今晚${"一二三四五六七八九十"[i % 10]}点一起吃饭吗，老地方见`, spam: false, category: null });
      rows.push({ text: `无抵押贷款当天放款，详询客服${"甲乙丙丁戊己庚辛"[i % 8]}经理`, spam: true, category: null });
    }
    return rows;
  };

  it("calibrates Latin-script messages on their own when each script has enough rows", () => {
    const rows = mixedScriptRows();
    const m = trainModel(rows, small);
    expect(m.plattLatin).not.toBeNull();
    expect(m.plattLatin).not.toEqual(m.platt);
    const clf = loadModelFromString(serializeModel(m));
    const en = clf.predict("free prize! txt win to 80066 now");
    const zh = clf.predict("无抵押贷款当天放款");
    expect(en.spamProbability).toBeCloseTo(plattProbability(m.plattLatin!, en.decision), 3);
    expect(zh.spamProbability).toBeCloseTo(plattProbability(m.platt, zh.decision), 3);
    // Too few Latin rows: one calibration for all.
    expect(trainModel(rows.filter((e) => /[\u4e00-\u9fff]/.test(e.text) || e.text.startsWith("ok see you at 1")), small).plattLatin).toBeNull();
  });

  it("trains Latin-script rows apart: the CJK weights are those of a model without any Latin row", () => {
    const rows = mixedScriptRows();
    const sep = { ...small, separateLatin: true };
    const both = trainModel(rows, sep);
    const cjkOnly = trainModel(rows.filter((e) => /[\u4e00-\u9fff]/.test(e.text)), sep);
    expect(both.latinBinary).not.toBeNull();
    expect(cjkOnly.latinBinary).toBeNull();
    expect(Array.from(both.binary.weights)).toEqual(Array.from(cjkOnly.binary.weights));
    expect(both.binary.bias).toBe(cjkOnly.binary.bias);
    expect(both.platt).toEqual(cjkOnly.platt);
    // The joint fit (the former behaviour) lets the Latin rows move the CJK weights.
    const joint = trainModel(rows, small);
    expect(joint.latinBinary).toBeNull();
    expect(Array.from(joint.binary.weights)).not.toEqual(Array.from(cjkOnly.binary.weights));
    // Latin-script messages are scored with their own weights, also after loading the file.
    const clf = loadModelFromString(serializeModel(both));
    const x = clf.features("free prize! txt win to 80066 now");
    let own = both.latinBinary!.bias;
    for (let k = 0; k < x.length; k++) own += both.latinBinary!.weights[x.indices[k]!]! * x.values[k]!;
    expect(clf.predict("free prize! txt win to 80066 now").decision).toBeCloseTo(own, 2);
  });

  it("cjkTransfer: the CJK weights, calibration and categories are those of the joint model without latinViews", () => {
    // With category rows, one of them Latin-only (such rows exist in the category set).
    const rows = [
      ...mixedScriptRows(),
      ...["代开发票，联系客服", "各类发票代开", "www.invoice888.com vip"].map((text) => ({ text, spam: true, category: "AD_Invoice" })),
      ...["线上赌场注册送彩金", "澳门赌场网址", "bet1234.com casino bonus"].map((text) => ({ text, spam: true, category: "IL_Gambling" })),
    ];
    const tokens = { ...small, features: { ...small.features, latinViews: false }, separateLatin: false };
    const transfer = { ...small, features: { ...small.features, latinViews: true }, separateLatin: true, cjkTransfer: true };
    const joint = trainModel(rows, tokens);
    const m = trainModel(rows, transfer);
    expect(Array.from(m.binary.weights)).toEqual(Array.from(joint.binary.weights));
    expect(m.binary.bias).toBe(joint.binary.bias);
    expect(m.platt).toEqual(joint.platt);
    expect(m.category).toEqual(joint.category);
    // Latin-script messages get latinViews features and weights trained on the Latin-script rows alone.
    expect(m.features.latinViews).toBe(true);
    const latinOnly = trainModel(
      rows.filter((e) => !/[\u4e00-\u9fff]/.test(e.text)),
      { ...transfer, separateLatin: false, cjkTransfer: false },
    );
    expect(Array.from(m.latinBinary!.weights)).toEqual(Array.from(latinOnly.binary.weights));
    expect(m.plattLatin).toEqual(latinOnly.plattLatin);
    // Without cjkTransfer the CJK weights lose the Latin rows (what cost Chinese fixture recall).
    expect(Array.from(trainModel(rows, { ...transfer, cjkTransfer: false }).binary.weights)).not.toEqual(Array.from(joint.binary.weights));
    // The scorer's path: a CJK message scores as with the joint model, a Latin one with its own weights.
    const clf = loadModelFromString(serializeModel(m));
    const jclf = loadModelFromString(serializeModel(joint));
    expect(clf.predict("无抵押贷款当天放款").spamProbability).toBeCloseTo(jclf.predict("无抵押贷款当天放款").spamProbability, 6);
    const own = new SpamClassifier(latinOnly, "latin-only", "now");
    expect(clf.predict("free prize! txt win to 80066 now").decision).toBeCloseTo(own.predict("free prize! txt win to 80066 now").decision, 2);
    // Too few Latin-script rows for weights of their own: the model is the one without latinViews.
    const few = rows.filter((e) => /[\u4e00-\u9fff]/.test(e.text) || e.text.startsWith("ok see you at 1"));
    const fm = trainModel(few, transfer);
    expect(fm.latinBinary).toBeNull();
    expect(fm.features.latinViews).toBe(false);
    expect(Array.from(fm.binary.weights)).toEqual(Array.from(trainModel(few, tokens).binary.weights));
  });

  it("loads models written before token n-grams and IDF (no such fields)", () => {
    const old = { ...small, features: { bits: 14, charNgramMax: 3, latinCharNgramMax: 5, wordNgrams: true, sublinearTf: true } };
    const m = trainModel(examples, old);
    expect(m.idf).toBeNull();
    const clf = loadModelFromString(serializeModel(m));
    expect(clf.predict(spam[0]!).spamProbability).toBeGreaterThan(0.5);
  });
});

describe("latinViews (Latin-script messages: words, char 1–5, case-sensitive char 2–5)", () => {
  const ids = (v: { indices: Int32Array; length: number }): number[] => Array.from(v.indices.subarray(0, v.length)).sort((a, b) => a - b);
  const sumSq = (v: { values: Float32Array; length: number }): number => Array.from(v.values.subarray(0, v.length)).reduce((a, x) => a + x * x, 0);

  it("reads letter case from the raw text only: same normalised text, different case, different features", () => {
    const fx = new FeatureExtractor(VIEWS);
    const shout = fx.extract("free entry, txt win now", "FREE entry, TXT WIN now");
    const quiet = fx.extract("free entry, txt win now", "free entry, txt win now");
    expect(ids(shout)).not.toEqual(ids(quiet));
    // Without raw text the normalised text stands in for it.
    expect(ids(fx.extract("free entry, txt win now"))).toEqual(ids(quiet));
    // Whitespace runs in the raw text do not matter.
    expect(ids(fx.extract("free entry, txt win now", "  free   entry,\ttxt win now "))).toEqual(ids(quiet));
    // Token mode ignores the raw text.
    const tokens = new FeatureExtractor(TOKEN_MODE);
    expect(ids(tokens.extract("free entry, txt win now", "FREE entry, TXT WIN now"))).toEqual(ids(tokens.extract("free entry, txt win now")));
  });

  it("keeps digits (a premium number is not a time of day) and normalises each of the three blocks on its own", () => {
    const fx = new FeatureExtractor(VIEWS);
    expect(ids(fx.extract("call 09061701461 now"))).not.toEqual(ids(fx.extract("call 12301701461 now")));
    // Three blocks of unit length each: squared norm 3 (one block would be 1).
    expect(sumSq(fx.extract("urgent! call 09061701461 to claim £900"))).toBeCloseTo(3, 4);
    // CJK messages keep one normalisation and their old features.
    const zh = fx.extract("验证码123456，五分钟内有效");
    expect(sumSq(zh)).toBeCloseTo(1, 4);
    const old = new FeatureExtractor(TOKEN_MODE).extract("验证码123456，五分钟内有效");
    expect(Array.from(zh.indices)).toEqual(Array.from(old.indices));
    expect(Array.from(zh.values)).toEqual(Array.from(old.values));
  });

  it("weighs every block with the IDF table and strips the tags", () => {
    const fx = new FeatureExtractor({ ...VIEWS, bits: 14 });
    const rows = ["ok see you", "ok call me", "ok txt win now"].map((t) => fx.extractCounts(t));
    expect(rows.every((r) => Array.from(r.indices).every((j) => (j & LATIN_TAG) !== 0))).toBe(true);
    const idf = idfTable(buildDataset(rows), [0, 1, 2], 14);
    const r = fx.extractCounts("ok txt win now");
    weighTerms(r.indices, r.values, r.length, true, idf);
    expect(Array.from(r.indices).every((j) => j >= 0 && j < 1 << 14)).toBe(true);
    expect(sumSq(r)).toBeCloseTo(3, 4);
  });

  it("scores with the raw text after a round trip through the model file", () => {
    const en: Example[] = [
      ...["see you at lunch", "are you free tonight?", "i'm free after 5, call me", "sorry, running late"].map((text) => ({ text, spam: false, category: null })),
      ...["FREE entry! txt WIN to 80086", "URGENT! call 09061701461 to claim £900", "You have WON a FREE phone", "txt STOP to 87239 to end"].map((raw) => ({
        text: raw.toLowerCase(),
        raw,
        spam: true,
        category: null,
      })),
    ];
    const m = trainModel([...examples, ...en], { ...small, features: { ...small.features, latinViews: true } });
    expect(m.features.latinViews).toBe(true);
    const clf = loadModelFromString(serializeModel(m));
    const direct = new SpamClassifier(m, "in-memory", "now");
    for (const e of en) expect(clf.predict(e.text, e.raw).decision).toBeCloseTo(direct.predict(e.text, e.raw).decision, 2);
    // "free" was ham and "FREE" spam in training: the same normalised text scores higher when shouted.
    expect(clf.predict("are you free now", "are you FREE now").decision).toBeGreaterThan(clf.predict("are you free now", "are you free now").decision);
  });
});

describe("graftLatinSide", () => {
  const latinRows: Example[] = Array.from({ length: 24 }, (_, i) => [
    { text: `see you at ${i} tomorrow my friend`, spam: false, category: null },
    { text: `win a cash prize ${i} now call 0906${i}`, spam: true, category: null },
  ]).flat();
  const opts = { ...DEFAULT_PIPELINE_OPTIONS, features: { ...DEFAULT_FEATURE_OPTIONS, bits: 14 }, categoryBits: 12, calibrationFolds: 2, latinStack: null };
  const donor = serializeModel(trainModel([...examples, ...latinRows], opts));
  const extra: Example[] = [
    { text: "老婆，今晚加班，别等我吃饭", spam: false, category: null },
    { text: "低息贷款当天到账，详询13900001111", spam: true, category: null },
  ];
  const retrained = serializeModel(trainModel([...examples, ...extra, ...latinRows.slice(0, 40)], opts));

  it("keeps the new CJK side and takes the donor's Latin-script side, under a version of its own", () => {
    const g = loadModelFromString(graftLatinSide(retrained, donor));
    const d = loadModelFromString(donor);
    const r = loadModelFromString(retrained);
    expect(g.predict("win a cash prize 7 now call 09067").spamProbability).toBe(d.predict("win a cash prize 7 now call 09067").spamProbability);
    expect(r.predict("win a cash prize 7 now call 09067").spamProbability).not.toBe(d.predict("win a cash prize 7 now call 09067").spamProbability);
    expect(g.predict("老婆，今晚加班").spamProbability).toBe(r.predict("老婆，今晚加班").spamProbability);
    expect(new Set([g.modelVersion, d.modelVersion, r.modelVersion]).size).toBe(3);
    expect(g.file.training["latinSideFrom"]).toBe(d.modelVersion);
  });
  it("refuses a donor with other feature settings", () => {
    const other = serializeModel(trainModel([...examples, ...latinRows], { ...opts, features: { ...opts.features, charNgramMax: 2 } }));
    expect(() => graftLatinSide(retrained, other)).toThrow(ModelLoadError);
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
  it("weighs a rare category's own rows up with categoryBalance, so a large category does not drown it", () => {
    const shops = ["全场特价", "店庆促销", "新品上市", "会员折扣", "限时秒杀", "满减优惠", "进店有礼", "清仓处理"];
    // The same text under both labels, more often under the large one: unbalanced, the large one wins it.
    const cat: Example[] = [
      ...Array.from({ length: 48 }, (_, i) => ({ text: `${shops[i % 8]}，${shops[(i * 3 + 1) % 8]}，快递包邮第${i}期`, spam: true, category: "AD_Retail" })),
      ...Array.from({ length: 5 }, () => ({ text: "快递包裹异常，点击理赔", spam: true, category: "AD_Retail" })),
      ...Array.from({ length: 3 }, () => ({ text: "快递包裹异常，点击理赔", spam: true, category: "FR_Phishing(Other)" })),
    ];
    const fine = (balance: number): string | null =>
      loadModelFromString(serializeModel(trainModel([...examples, ...cat], { ...small, categoryBalance: balance }))).predict("快递包裹异常").fineCategory;
    expect(fine(0)).toBe("AD_Retail");
    expect(fine(0.5)).toBe("FR_Phishing(Other)");
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

describe("script test", () => {
  it("counts Latin-script text as the extractor does, and the raw-text test agrees once NFKC folds full-width forms", () => {
    expect(isLatinScript("call me at 5")).toBe(true);
    expect(isLatinScript("   ")).toBe(false);
    expect(isLatinScript("ok 你好")).toBe(false);
    expect(isLatinScript("ok 😀")).toBe(false); // astral code points count as CJK, as in the extractor
    expect(hasCjk("ok 你好")).toBe(true);
    expect(hasCjk("ｆｒｅｅ\u3000prize")).toBe(false); // NFKC: "free prize"
    expect(hasCjk("ok 😀")).toBe(true);
    expect(hasCjk("call now")).toBe(false);
  });
});
