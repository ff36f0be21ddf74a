import { describe, expect, it } from "vitest";
import { DEFAULT_FEATURE_OPTIONS, DEFAULT_PIPELINE_OPTIONS, isLatinScript, loadModelFromString, serializeModel, trainModel } from "@spam/classifier";
import { VerdictV1, type Verdict } from "@spam/contracts";
import { normalize } from "@spam/normalize";
import { createScorer, verdictId, type ClusterCampaignCounts, type RuleEngine, type RuleHitLike } from "./scorer.js";
import { notificationSignals } from "./notification.js";

const spamTexts = [
  "无抵押信用贷款当天放款详询13912345678",
  "代开各类发票点数优惠联系电话13800001111",
  "澳门线上赌场注册即送888元彩金网址 bet1234.com",
  "恭喜您中奖苹果手机一部请点击 xz1234.top 领取",
  "高薪兼职刷单日结加微信 sd123456",
  "办理各类证件毕业证保真可查联系QQ 123456",
];
const hamTexts = ["今晚一起吃饭吗老地方见", "明天的会议改到下午三点了", "到家了没有到了回个消息", "孩子的作业我检查过了"];
const model = loadModelFromString(
  serializeModel(
    trainModel(
      [
        ...spamTexts.map((t) => ({ text: normalize(t).text, spam: true, category: null })),
        ...hamTexts.map((t) => ({ text: normalize(t).text, spam: false, category: null })),
      ],
      { ...DEFAULT_PIPELINE_OPTIONS, features: { ...DEFAULT_FEATURE_OPTIONS, bits: 14 }, calibrationFolds: 2 },
    ),
  ),
);

class FakeRules implements RuleEngine {
  version = "rules-test-1";
  constructor(private readonly hits: (text: string) => RuleHitLike[]) {}
  evaluate(input: { normalized: { text: string } }): RuleHitLike[] {
    return this.hits(input.normalized.text);
  }
  isAllowListedSender(sender: string): boolean {
    return sender === "95588";
  }
}

const msg = (id: string, text: string, source = "13900000000") => ({ id, text, source, destination: "13800000000", receivedAt: 1_700_000_000_000 });

describe("createScorer", () => {
  it("produces valid, idempotent verdicts with versions and timings", () => {
    const scorer = createScorer({ ruleSet: new FakeRules(() => []), model, now: () => 1_700_000_000_500 });
    const v1 = scorer.score(msg("m1", spamTexts[0]!));
    expect(VerdictV1.safeParse(v1).success).toBe(true);
    expect(v1.id).toBe(verdictId("m1"));
    expect(v1.rulesetVersion).toBe("rules-test-1");
    expect(v1.modelVersion).toBe(model.modelVersion);
    expect(Object.keys(v1.timingsUs).sort()).toEqual(["campaign", "model", "normalize", "rules", "total"]);
    expect(v1.contributions[0]!.source).toBe("model");
    const again = scorer.score(msg("m1", spamTexts[0]!));
    expect(again.id).toBe(v1.id);
    expect(again.label).toBe(v1.label);
    expect(scorer.campaigns.get(v1.campaignId!)!.messages).toBe(1);
  });

  it("adds rule contributions and lets a strong rule decide", () => {
    const rules = new FakeRules((t) =>
      t.includes("发票") ? [{ ruleId: "invoice.kw", score: 0.9, category: "IL_Fake_ID_and_invoice", action: "block", detail: "keywords: 发票" }] : [],
    );
    const scorer = createScorer({ ruleSet: rules, model });
    const v = scorer.score(msg("m2", "专业开发票，电话13911112222"));
    expect(v.contributions.map((c) => c.id)).toContain("invoice.kw");
    expect(v.label).toBe("spam");
    expect(v.action).toBe("block");
    expect(v.category).toBe("illegal");
  });

  it("pulls signed service notices without lures down to ham", () => {
    const scorer = createScorer({ ruleSet: null, model, thresholds: { suspect: 0.5, spam: 0.9 } });
    // From the bank's number: the same signature from a mobile number is a spoof (sender-aware scoring).
    const v = scorer.score(msg("m3", "【工商银行】您尾号1234的储蓄卡3月5日支出人民币56.00元，余额789.10元。", "95588"));
    expect(v.label).toBe("ham");
    expect(v.contributions.map((c) => c.id)).toContain("builtin.notification");
    expect(v.rulesetVersion).toBe("none");
  });

  it("does not pull down a phishing notice with a link", () => {
    const s = notificationSignals(normalize("【建设银行】您的账户存在异常，请登录 ccb-safe.com 解除"));
    expect(s.lure).toBe(true);
    expect(notificationSignals(normalize("【支付宝】验证码：123456，5分钟内有效")).otp).toBe(true);
  });

  it("uses configurable thresholds", () => {
    // The text alone blocks from modelBlock on (issue #18: blocking needs corroboration).
    const strict = createScorer({ ruleSet: null, model, thresholds: { suspect: 0.01, spam: 0.02, modelBlock: 0.03 } });
    expect(strict.score(msg("m4", spamTexts[1]!)).label).toBe("spam");
    expect(() => createScorer({ ruleSet: null, model, thresholds: { suspect: 0.9, spam: 0.5 } })).toThrow();
    expect(() => createScorer({ ruleSet: null, model, thresholds: { spam: 0.9, modelBlock: 0.8 } })).toThrow();
  });

  describe("blocking needs corroboration", () => {
    const sure = { suspect: 0.01, spam: 0.02, modelBlock: 0.999999 };
    it("flags, not blocks, a message only the text model calls spam, and says why", () => {
      const v = createScorer({ ruleSet: null, model, thresholds: sure }).score(msg("c1", spamTexts[1]!));
      expect(v.label).toBe("suspect");
      expect(v.action).toBe("flag");
      expect(v.contributions.map((c) => c.id)).toContain("builtin.uncorroborated");
    });
    it("blocks when a block-action rule agrees", () => {
      const rules = new FakeRules(() => [{ ruleId: "invoice.kw", score: 0.1, category: "IL_Fake_ID_and_invoice", action: "block", detail: "" }]);
      const v = createScorer({ ruleSet: rules, model, thresholds: sure }).score(msg("c2", spamTexts[1]!));
      expect(v.action).toBe("block");
    });
    it("blocks when a velocity rule fires, but not on a flag-only keyword rule", () => {
      const velocity = new FakeRules(() => [{ ruleId: "velocity.fanout", score: 0.1, category: "Other", action: "flag", detail: "" }]);
      expect(createScorer({ ruleSet: velocity, model, thresholds: sure }).score(msg("c3", spamTexts[1]!)).action).toBe("block");
      const keyword = new FakeRules(() => [{ ruleId: "ad.retail.keywords", score: 0.1, category: "AD_Retail", action: "flag", detail: "" }]);
      expect(createScorer({ ruleSet: keyword, model, thresholds: sure }).score(msg("c4", spamTexts[1]!)).action).toBe("flag");
    });
    it("blocks on the text alone when the model is beyond modelBlock", () => {
      const v = createScorer({ ruleSet: null, model, thresholds: { ...sure, modelBlock: 0.03 } }).score(msg("c5", spamTexts[1]!));
      expect(v.action).toBe("block");
    });
  });

  describe("sender-aware scoring", () => {
    const notice = "【工商银行】您尾号1234的储蓄卡3月5日支出人民币56.00元，余额789.10元。";
    it("pulls down a bank notice from the bank's own number", () => {
      const v = createScorer({ ruleSet: null, model }).score(msg("s1", notice, "95588"));
      expect(v.contributions.map((c) => c.id)).toContain("builtin.notification");
      expect(v.contributions.map((c) => c.id)).not.toContain("builtin.sender-spoof");
    });
    it("treats the same signature from a mobile number as a spoof: no pull-down, a boost that corroborates, category fraud", () => {
      const v = createScorer({ ruleSet: null, model, thresholds: { suspect: 0.01, spam: 0.02, modelBlock: 0.999999 } }).score(msg("s2", notice, "13912345678"));
      const ids = v.contributions.map((c) => c.id);
      expect(ids).toContain("builtin.sender-spoof");
      expect(ids).not.toContain("builtin.notification");
      expect(v.action).toBe("block");
      expect(v.category).toBe("fraud");
    });
  });

  describe("a spoofed brand that links off its own domains", () => {
    const phishing = "【招商银行】您的信用卡已冻结，请登录 cmb-safe.top 解冻";
    it("is blocked with no rule at all, whatever the text model says (its logit is clamped)", () => {
      const v = createScorer({ ruleSet: null, model }).score(msg("b1", phishing, "13912345678"));
      expect(v.action).toBe("block");
      expect(v.category).toBe("fraud");
      expect(v.contributions.find((c) => c.id === "builtin.brand-link")).toMatchObject({ category: "FR_Phishing(Bank)", detail: expect.stringContaining("cmb-safe.top") });
    });
    it("is a lookalike too when the brand's domain is only a part of the host", () => {
      const v = createScorer({ ruleSet: null, model }).score(msg("b2", "【招商银行】您的积分即将过期，请登录 cmbchina.com.jf-cmb.top 兑换", "13912345678"));
      expect(v.contributions.map((c) => c.id)).toContain("builtin.brand-link");
    });
    it("is no signal from the brand's own number, for the brand's own domain, or for a signature the registry does not know", () => {
      const ids = (text: string, source: string) => createScorer({ ruleSet: null, model }).score(msg(`b-${source}-${text.length}`, text, source)).contributions.map((c) => c.id);
      expect(ids(phishing, "95555")).not.toContain("builtin.brand-link");
      expect(ids("【招商银行】您的信用卡账单已出，详见 www.cmbchina.com 或 m.cmbchina.com", "13912345678")).not.toContain("builtin.brand-link");
      expect(ids("【悦享超市】会员积分即将过期，请登录 yx-shop.top 兑换", "13912345678")).not.toContain("builtin.brand-link");
      expect(ids(phishing, "")).not.toContain("builtin.brand-link");
    });
  });

  describe("a rule about the text, from the number registered to the signed brand", () => {
    // Genuine notices from a bank's own number mention frozen cards and expiring points as phishing does.
    const notice = "【招商银行】尊敬的客户，您尾号1234的信用卡因逾期已冻结，请尽快还款，详询95555。";
    const phishing = new FakeRules(() => [{ ruleId: "phishing.bank.regex", score: 0.5, category: "FR_Phishing(Bank)", action: "block", detail: "" }]);
    const sure = { suspect: 0.01, spam: 0.02, modelBlock: 0.999999 };
    // Thresholds the model alone never reaches here: whatever is flagged, the rule flagged.
    const lenient = { suspect: 0.99999, spam: 0.999999, modelBlock: 0.9999999 };
    it("does not force a flag", () => {
      const v = createScorer({ ruleSet: phishing, model, thresholds: lenient }).score(msg("r1", notice, "95555"));
      expect(v.action).toBe("allow");
      expect(v.contributions.map((c) => c.id)).toEqual(expect.arrayContaining(["phishing.bank.regex", "builtin.registered-sender"]));
    });
    it("does not corroborate a block: the text alone blocks only from modelBlock", () => {
      const v = createScorer({ ruleSet: phishing, model, thresholds: sure }).score(msg("r2", spamTexts[1]!.replace(/^/, "【招商银行】"), "95555"));
      expect(v.action).toBe("flag");
    });
    it("still flags and corroborates from any other sender", () => {
      expect(createScorer({ ruleSet: phishing, model, thresholds: lenient }).score(msg("r3", notice, "")).action).toBe("flag");
      expect(createScorer({ ruleSet: phishing, model, thresholds: lenient }).score(msg("r4", notice, "95588")).action).toBe("flag");
      const fromMobile = createScorer({ ruleSet: phishing, model, thresholds: sure }).score(msg("r5", spamTexts[1]!.replace(/^/, "【招商银行】"), "13912345678"));
      expect(fromMobile.action).toBe("block");
      expect(fromMobile.contributions.map((c) => c.id)).not.toContain("builtin.registered-sender");
    });
  });

  it("applies no allow rule to a message whose signature its sender spoofs", () => {
    const allow = new FakeRules(() => [{ ruleId: "allow.signatures", score: -0.2, category: "service", action: "allow", detail: "signature 【工商银行】" }]);
    const notice = "【工商银行】您尾号1234的储蓄卡3月5日支出人民币56.00元，余额789.10元。";
    const scorer = createScorer({ ruleSet: allow, model });
    const spoofed = scorer.score(msg("a1", notice, "13912345678")).contributions.find((c) => c.id === "allow.signatures");
    expect(spoofed).toMatchObject({ score: 0, detail: expect.stringMatching(/^not applied, spoofed sender/) });
    expect(scorer.score(msg("a2", notice, "95588")).contributions.find((c) => c.id === "allow.signatures")?.score).toBeLessThan(0);
    // The score moves with it: the spoofed message scores as if the allow rule had not fired.
    const without = createScorer({ ruleSet: new FakeRules(() => []), model }).score(msg("a3", notice, "13912345678"));
    expect(scorer.score(msg("a4", notice, "13912345678")).score).toBe(without.score);
  });

  describe("commercial class", () => {
    const promo = "【悦享超市】会员日全场商品八折，满200减30，详情见门店公告。回T退订";
    const a2p = "1069012345";
    it("puts a signed promotion with an unsubscribe line in the commercial category, flagged by default", () => {
      const v = createScorer({ ruleSet: null, model }).score(msg("p1", promo, a2p));
      expect(v.category).toBe("commercial");
      expect(v.action).toBe("flag");
      expect(v.label).toBe("commercial");
      expect(v.contributions.find((c) => c.id === "builtin.commercial")?.category).toBe("commercial");
      expect(VerdictV1.safeParse(v).success).toBe(true);
    });
    it("takes the operator's commercial action from configuration", () => {
      expect(createScorer({ ruleSet: null, model, thresholds: { commercialAction: "allow" } }).score(msg("p2", promo, a2p))).toMatchObject({ label: "commercial", action: "allow", category: "commercial" });
      expect(createScorer({ ruleSet: null, model, thresholds: { commercialAction: "block" } }).score(msg("p3", promo, a2p))).toMatchObject({ label: "commercial", action: "block", category: "commercial" });
    });
    it("is not the commercial class when a fraud or illegal rule fires, without a signature, or from a mobile number", () => {
      expect(createScorer({ ruleSet: null, model }).score(msg("p6", promo, "13912345678")).category).not.toBe("commercial");
      const rules = new FakeRules(() => [{ ruleId: "gambling.kw", score: 0.5, category: "IL_Gambling", action: "flag", detail: "" }]);
      expect(createScorer({ ruleSet: rules, model }).score(msg("p4", promo, a2p)).category).not.toBe("commercial");
      expect(createScorer({ ruleSet: null, model }).score(msg("p5", "会员日全场商品八折，满200减30，回T退订", a2p)).category).not.toBe("commercial");
    });
  });

  it("counts a report quoting a scored message against its campaign, once", () => {
    const scorer = createScorer({ ruleSet: null, model });
    const text = "亲，本店新品上架全场八折，详询13900001234，回T退订";
    const v = scorer.score(msg("t1", text));
    scorer.score({ ...msg("t1", text), kind: "report" });
    scorer.score({ ...msg("t1", text), kind: "report" });
    expect(scorer.campaigns.get(v.campaignId!)).toMatchObject({ messages: 1, reports: 1 });
  });

  it("boosts a campaign that rotates through many senders", () => {
    const scorer = createScorer({ ruleSet: null, model, thresholds: { campaignMinSenders: 5 } });
    let last;
    for (let i = 0; i < 6; i++) last = scorer.score(msg(`c${i}`, `亲，本店新品上架全场八折，详询1390000${1000 + i}`, `1380000${1000 + i}`));
    expect(last!.contributions.map((c) => c.id)).toContain("builtin.campaign-senders");
  });

  it("gives the model the message as received (letter case) besides the normalised text", () => {
    // latinViews features read case from the raw text: "FREE" was spam here, "free" ham.
    const ham = ["are you free tonight?", "i'm free after 5, call me", "see you at lunch", "sorry, running late"];
    const spam = ["FREE entry! txt WIN to 80086", "You have WON a FREE phone", "URGENT! claim your FREE prize", "txt STOP to 87239 to end"];
    const en = loadModelFromString(
      serializeModel(
        trainModel(
          [
            ...ham.map((t) => ({ text: normalize(t).text, raw: t, spam: false, category: null })),
            ...spam.map((t) => ({ text: normalize(t).text, raw: t, spam: true, category: null })),
          ],
          // One joint fit: with separateLatin, 4 + 4 Latin rows are too few for weights of their own (no latinViews then).
          { ...DEFAULT_PIPELINE_OPTIONS, features: { ...DEFAULT_FEATURE_OPTIONS, bits: 14, latinViews: true }, calibrationFolds: 2, separateLatin: false },
        ),
      ),
    );
    const scorer = createScorer({ ruleSet: null, model: en });
    const p = (text: string): string | null => scorer.score(msg(text, text)).contributions[0]!.detail;
    // Same normalised text: only the raw text can tell them apart (a tiny model's calibration may even invert the order).
    expect(p("are you FREE now")).not.toBe(p("are you free now"));
    expect(p("are you free now")).toBe(p("are  you free now"));
  });
});

describe("cluster-wide campaign counts", () => {
  const template = (i: number) => `亲，本店新品上架全场八折，详询1390000${1000 + i}`;
  const campaignMsg = (i: number) => msg(`cc${i}`, template(i), `1380000${1000 + i}`);
  const counts = (c: Partial<ClusterCampaignCounts>): ClusterCampaignCounts => ({ messages: 0, senders: 0, recipients: 0, reports: 0, ...c });
  const boost = (v: Verdict, id: string) => v.contributions.find((c) => c.id === id);

  it("fires the senders boost from the cluster count when this worker saw too few senders, and says so", () => {
    const cluster = new Map<string, ClusterCampaignCounts>();
    const scorer = createScorer({ ruleSet: null, model, clusterCampaigns: cluster });
    const first = scorer.score(campaignMsg(0));
    expect(boost(first, "builtin.campaign-senders")).toBeUndefined();
    // The map is read per message: counts arriving later apply to the next message.
    cluster.set(first.campaignId!, counts({ senders: 30, messages: 60, recipients: 60 }));
    const second = scorer.score(campaignMsg(1));
    expect(second.campaignId).toBe(first.campaignId);
    expect(scorer.campaigns.get(first.campaignId!)!.senders).toBe(2);
    const b = boost(second, "builtin.campaign-senders");
    expect(b?.detail).toBe(`campaign ${first.campaignId}: 30 senders (cluster count; local 2, cluster 30), 60 messages`);
    expect(second.score).toBeGreaterThan(first.score);
  });

  it("without cluster counts the same traffic gets no boost", () => {
    const scorer = createScorer({ ruleSet: null, model });
    scorer.score(campaignMsg(0));
    expect(boost(scorer.score(campaignMsg(1)), "builtin.campaign-senders")).toBeUndefined();
  });

  it("records the local count when it is the larger one, and ignores other campaigns' counts", () => {
    const cluster = new Map<string, ClusterCampaignCounts>();
    const scorer = createScorer({ ruleSet: null, model, thresholds: { campaignMinSenders: 3 }, clusterCampaigns: cluster });
    const first = scorer.score(campaignMsg(0));
    cluster.set(first.campaignId!, counts({ senders: 2, messages: 2 }));
    cluster.set("cffffffffffffffff", counts({ senders: 500, reports: 50 }));
    scorer.score(campaignMsg(1));
    const third = scorer.score(campaignMsg(2));
    expect(boost(third, "builtin.campaign-senders")?.detail).toBe(`campaign ${first.campaignId}: 3 senders (local count; local 3, cluster 2), 3 messages`);
    expect(boost(third, "builtin.campaign-reports")).toBeUndefined();
    // Below the threshold on both counts: nothing fires.
    const other = createScorer({ ruleSet: null, model, thresholds: { campaignMinSenders: 3 }, clusterCampaigns: cluster });
    expect(boost(other.score(campaignMsg(0)), "builtin.campaign-senders")).toBeUndefined();
  });

  it("fires the reports boost from reports counted on other workers", () => {
    const cluster = new Map<string, ClusterCampaignCounts>();
    const scorer = createScorer({ ruleSet: null, model, clusterCampaigns: cluster });
    const first = scorer.score(campaignMsg(0));
    scorer.score({ ...campaignMsg(0), kind: "report" });
    expect(boost(scorer.score(campaignMsg(1)), "builtin.campaign-reports")).toBeUndefined();
    cluster.set(first.campaignId!, counts({ senders: 2, messages: 2, reports: 4 }));
    const b = boost(scorer.score(campaignMsg(2)), "builtin.campaign-reports");
    expect(b?.detail).toBe(`campaign ${first.campaignId}: 4 reports (cluster count; local 1, cluster 4)`);
    expect(b?.score).toBe(scorer.thresholds.reportLogit);
  });
});

describe("the embedding second look (latinStack)", () => {
  // Latin-script messages whose words carry no label (one vocabulary) while their embedding does.
  let seed = 5;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const words = ["hello", "call", "later", "ok", "see", "you", "tomorrow", "text", "now", "thanks"];
  const unit = (sign: number): Float32Array => Float32Array.from({ length: 4 }, (_, j) => (j === 0 ? sign : 0));
  const rows = Array.from({ length: 80 }, (_, i) => {
    const text = Array.from({ length: 5 }, () => words[Math.floor(rand() * words.length)]!).join(" ");
    const e = Float32Array.from({ length: 4 }, (_, j) => (j === 0 ? (i % 2 ? 1 : -1) + (rand() - 0.5) : rand() - 0.5));
    const n = Math.hypot(...e);
    return { text: normalize(text).text, raw: text, spam: i % 2 === 1, category: null, embedding: e.map((x) => x / n) };
  });
  const stacked = loadModelFromString(
    serializeModel(
      trainModel(
        [
          ...rows,
          ...spamTexts.map((t) => ({ text: normalize(t).text, spam: true, category: null })),
          ...hamTexts.map((t) => ({ text: normalize(t).text, spam: false, category: null })),
        ],
        {
          ...DEFAULT_PIPELINE_OPTIONS,
          features: { ...DEFAULT_FEATURE_OPTIONS, bits: 14 },
          calibrationFolds: 2,
          latinStack: { C: 1, stackerC: 10, band: [0.02, 0.98], folds: 3, embeddingModel: "test@1" },
        },
      ),
    ),
  );

  it("wants an embedding only for undecided Latin-script text, and uses it when given", () => {
    const scorer = createScorer({ ruleSet: null, model: stacked });
    const text = "hello call later ok see";
    expect(scorer.wantsEmbedding(text)).toBe(true);
    expect(scorer.wantsEmbedding(spamTexts[0]!)).toBe(false);
    // Without the model's second look nothing is wanted.
    expect(createScorer({ ruleSet: null, model }).wantsEmbedding(text)).toBe(false);
    const without = scorer.score(msg("e1", text));
    const asSpam = scorer.score({ ...msg("e2", text), embedding: unit(1) });
    const asHam = scorer.score({ ...msg("e3", text), embedding: unit(-1) });
    expect(without.contributions[0]!.detail).toContain("embedding=wanted");
    expect(asSpam.contributions[0]!.detail).toContain("embedding=used");
    expect(asSpam.score).toBeGreaterThan(without.score);
    expect(asHam.score).toBeLessThan(without.score);
    // A CJK message ignores an embedding it was given.
    const cjk = scorer.score({ ...msg("e4", spamTexts[0]!), embedding: unit(-1) });
    expect(cjk.score).toBe(scorer.score(msg("e5", spamTexts[0]!)).score);
    expect(cjk.contributions[0]!.detail).not.toContain("embedding");
  });

  it("decides who takes the second look with the classifier's script test (full-width ASCII and the ideographic space fold to Latin)", () => {
    const scorer = createScorer({ ruleSet: null, model: stacked });
    // Each of these normalises to "hello call later ok see", a Latin-script text the model is undecided on.
    for (const text of ["hello\u3000call later ok see", "ｈｅｌｌｏ call later ok see"]) {
      expect(isLatinScript(normalize(text).text)).toBe(true);
      expect(scorer.wantsEmbedding(text)).toBe(true);
    }
    expect(scorer.wantsEmbedding("hello call later ok see 你好")).toBe(false);
  });

  it("scores a text the same whether or not wantsEmbedding prepared it first", () => {
    const fresh = createScorer({ ruleSet: null, model: stacked, now: () => 1 });
    const primed = createScorer({ ruleSet: null, model: stacked, now: () => 1 });
    for (const [i, text] of ["hello call later ok see", "thanks see you now", "代开各类发票"].entries()) {
      primed.wantsEmbedding(text);
      for (const extra of [{}, { embedding: unit(1) }]) {
        const a = fresh.score({ ...msg(`p${i}`, text), ...extra });
        const b = primed.score({ ...msg(`p${i}`, text), ...extra });
        expect({ ...b, timingsUs: null }).toEqual({ ...a, timingsUs: null });
      }
    }
  });
});
