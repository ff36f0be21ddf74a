import { loadModel } from "@spam/classifier";
import { loadRuleSet } from "@spam/rules";
import { beforeAll, describe, expect, it } from "vitest";
import { createScorer, type Scorer } from "./scorer.js";
import { repoPath } from "@spam/repo-paths";

// The shipped model and the shipped rule data together, as the scorer runs them.
let scorer: Scorer;
beforeAll(async () => {
  const model = await loadModel(repoPath("packages/classifier/models/default.model.json"));
  const ruleSet = await loadRuleSet(repoPath("rules"));
  scorer = createScorer({ ruleSet, model });
});

let n = 0;
const verdict = (text: string, source = "13912345678") =>
  scorer.score({ id: `r${n++}`, text, source, destination: "13800000000", receivedAt: 1_700_000_000_000 });

describe("rules/: short spam with a contact and no link", () => {
  // Short spam the text model scores low (MODEL_CARD.md "Issue #18", 4.): the reply channel is a mobile
  // number, a QQ group or a WeChat id, and the rule data carries it.
  it.each([
    ["phishing with a mobile number", "您好，您的医保卡已被冻结，请拨打15866124410核实，逾期将影响使用"],
    ["phishing with a WeChat id", "快递通知：您的包裹异常，请添加微信kf20931处理理赔"],
    ["gambling tips with a QQ group", "篮球赛事内部推荐，稳赢不输，速加qq群5521876"],
    ["gambling tips with a mobile number", "大乐透内部号码，命中率极高，联系13677120984"],
    ["escort recruitment with a WeChat id", "高端会所诚聘女公关，日薪三千，微信 yc88231"],
    ["escort offer with a link", "寂寞吗？同城交友，视频聊天 mm3381.xyz"],
    ["shop promotion to a throwaway site", "双旦狂欢，全场低至一折，进店领券 shop8812.top 回T退订"],
  ])("calls %s spam (flag or block)", (_, text) => {
    expect(["flag", "block"]).toContain(verdict(text).action);
  });

  it("blocks phishing with a mobile number: the rule asks for blocking and corroborates the text", () => {
    const v = verdict("尊敬的用户，您的社保卡已停用，请致电13522014476办理恢复，否则影响报销");
    expect(v.action).toBe("block");
    expect(v.contributions.map((c) => c.id)).toContain("phishing.other.contact");
  });
});

describe("rules/: personal messages and notices that mention a contact", () => {
  it.each([
    ["我银行卡丢了，这两天有事打我老婆电话13812345678", "13912345678"],
    ["今晚足球赛你押谁赢？加我微信abc12345一起看", "13912345678"],
    ["明天约会地点改了，我微信发你定位，号是lily0921", "13912345678"],
    ["社保卡办好了吗？没办好就打社保局电话问问", "13912345678"],
    ["妈，我换了个新手机，号码还是原来的，微信也没变", "13912345678"],
    ["我们公司年会抽奖，一等奖是双色球彩票一百注，哈哈", "13912345678"],
    ["【京东物流】您的快递已过期未取，请致电950616预约重新派送。", "106550101234"],
    ["【顺丰速运】您的快递已签收，如有异常请致电95338。", "95338"],
  ])("no spam rule fires on %s", (text, source) => {
    const v = verdict(text, source);
    expect(v.contributions.filter((c) => c.source === "rule" && c.score > 0)).toEqual([]);
    expect(v.action).not.toBe("block");
  });
});
