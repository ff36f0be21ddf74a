import { describe, expect, it } from "vitest";
import { parseReportText, type ParseResult } from "./parse.js";

const complete = (reportedNumber: string, content: string, numberKind: string): ParseResult =>
  ({ status: "complete", reportedNumber, content, numberKind }) as ParseResult;

describe("parseReportText: number*content", () => {
  const cases: Array<[string, string, string, string, string]> = [
    // [what, text, number, content, kind]
    ["plain ASCII star", "13912345678*您的快递已到，点击领取", "13912345678", "您的快递已到，点击领取", "mobile"],
    ["full-width star", "13912345678＊办理大额信用卡", "13912345678", "办理大额信用卡", "mobile"],
    ["spaces around the star", "13912345678 * 低息贷款秒到账", "13912345678", "低息贷款秒到账", "mobile"],
    ["full-width spaces around a full-width star", "13912345678　＊　低息贷款", "13912345678", "低息贷款", "mobile"],
    ["full-width digits", "１３９１２３４５６７８*恭喜中奖", "13912345678", "恭喜中奖", "mobile"],
    ["full-width digits and star", "１３９１２３４５６７８＊恭喜中奖", "13912345678", "恭喜中奖", "mobile"],
    ["spaces inside the number", "139 1234 5678*刷单返利", "13912345678", "刷单返利", "mobile"],
    ["dashes inside the number", "139-1234-5678*刷单返利", "13912345678", "刷单返利", "mobile"],
    ["+86 prefix", "+8613912345678*积分兑换", "13912345678", "积分兑换", "mobile"],
    ["+86 with a space", "+86 139 1234 5678*积分兑换", "13912345678", "积分兑换", "mobile"],
    ["full-width plus", "＋８６１３９１２３４５６７８＊积分兑换", "13912345678", "积分兑换", "mobile"],
    ["0086 prefix", "008613912345678*积分兑换", "13912345678", "积分兑换", "mobile"],
    ["86 prefix", "8613912345678*积分兑换", "13912345678", "积分兑换", "mobile"],
    ["86 prefix with dashes", "86-139-1234-5678*积分兑换", "13912345678", "积分兑换", "mobile"],
    ["SP number 106", "1069012345*【某商城】会员日全场五折 回T退订", "1069012345", "【某商城】会员日全场五折 回T退订", "sp"],
    ["long SP number", "10657501234567890*验证码广告", "10657501234567890", "验证码广告", "sp"],
    ["landline Beijing with dash", "010-87654321*代开发票", "01087654321", "代开发票", "landline"],
    ["landline Shenzhen with spaces", "0755 8765 4321*代开发票", "075587654321", "代开发票", "landline"],
    ["landline 7-digit local number", "0371-6543210*办证刻章", "03716543210", "办证刻章", "landline"],
    ["landline in parentheses", "(020)87654321*装修贷款", "02087654321", "装修贷款", "landline"],
    ["landline +86 without the trunk zero", "+86 10 87654321*代开发票", "01087654321", "代开发票", "landline"],
    ["service number 95xxx", "95588*您的网银已过期请登录", "95588", "您的网银已过期请登录", "service"],
    ["operator service number", "10086*积分清零提醒", "10086", "积分清零提醒", "service"],
    ["400 number", "400-812-3456*免费领取", "4008123456", "免费领取", "service"],
    ["star inside the content", "13912345678*点击*链接*领取红包", "13912345678", "点击*链接*领取红包", "mobile"],
    ["double star", "13912345678**赌场上线", "13912345678", "赌场上线", "mobile"],
    ["leading 举报", "举报13912345678*贷款", "13912345678", "贷款", "mobile"],
    ["leading 举报 with full-width colon", "举报：13912345678*贷款", "13912345678", "贷款", "mobile"],
    ["leading 举报 with ASCII colon and space", "举报: 13912345678 * 贷款", "13912345678", "贷款", "mobile"],
    ["leading jb", "jb13912345678*贷款", "13912345678", "贷款", "mobile"],
    ["leading JB and a space", "JB 13912345678*贷款", "13912345678", "贷款", "mobile"],
    ["leading full-width ｊｂ", "ｊｂ13912345678＊贷款", "13912345678", "贷款", "mobile"],
    ["leading 举报短信", "举报短信 95588*账户异常", "95588", "账户异常", "service"],
    ["surrounding whitespace", "  13912345678*贷款  \n", "13912345678", "贷款", "mobile"],
    ["number last, after content", "您已中奖请速领*13912345678", "13912345678", "您已中奖请速领", "mobile"],
  ];
  for (const [what, text, number, content, kind] of cases) {
    it(what, () => expect(parseReportText(text)).toEqual(complete(number, content, kind)));
  }

  it("keeps the content's own characters (full-width stays full-width)", () => {
    expect(parseReportText("13912345678*ＶＩＰ会员１折")).toEqual(complete("13912345678", "ＶＩＰ会员１折", "mobile"));
  });
});

describe("parseReportText: a space instead of the star", () => {
  const cases: Array<[string, string, string, string, string]> = [
    ["mobile then content", "13912345678 退订回T", "13912345678", "退订回T", "mobile"],
    ["full-width space", "13912345678　退订回T", "13912345678", "退订回T", "mobile"],
    ["spaced number then content", "139 1234 5678 高薪兼职日结", "13912345678", "高薪兼职日结", "mobile"],
    ["content starting with digits", "13912345678 5元话费券已到账", "13912345678", "5元话费券已到账", "mobile"],
    ["landline in groups", "0755 8765 4321 贷款", "075587654321", "贷款", "landline"],
    ["service number", "95588 您的账户异常", "95588", "您的账户异常", "service"],
    ["+86 then content", "+86 13912345678 中奖", "13912345678", "中奖", "mobile"],
    ["with a leading word", "举报 13912345678 中奖", "13912345678", "中奖", "mobile"],
  ];
  for (const [what, text, number, content, kind] of cases) {
    it(what, () => expect(parseReportText(text)).toEqual(complete(number, content, kind)));
  }
});

describe("parseReportText: other separators instead of the star", () => {
  const cases: Array<[string, string, string, string, string]> = [
    ["# (next to * on the keypad)", "13912345678#刷单兼职", "13912345678", "刷单兼职", "mobile"],
    ["full-width ＃", "13912345678＃刷单兼职", "13912345678", "刷单兼职", "mobile"],
    ["full-width comma", "13912345678，刷单兼职", "13912345678", "刷单兼职", "mobile"],
    ["colon", "13912345678：刷单兼职", "13912345678", "刷单兼职", "mobile"],
    ["enumeration comma", "0755-87654321、代开发票", "075587654321", "代开发票", "landline"],
    ["service number with #", "95588#账户冻结", "95588", "账户冻结", "service"],
  ];
  for (const [what, text, number, content, kind] of cases) {
    it(what, () => expect(parseReportText(text)).toEqual(complete(number, content, kind)));
  }
  it("a service number before a comma is forwarded content, not a report", () => {
    expect(parseReportText("10086，您好，您的积分即将清零")).toEqual({ status: "content_only", content: "10086，您好，您的积分即将清零" });
  });
});

describe("parseReportText: content only", () => {
  const cases: Array<[string, string, string]> = [
    ["Chinese text", "恭喜您获得iPhone一部，请点击领取", "恭喜您获得iPhone一部，请点击领取"],
    ["text starting with an amount", "100元话费等你来拿", "100元话费等你来拿"],
    ["number glued to text is content, not a report", "10086提醒您积分即将清零", "10086提醒您积分即将清零"],
    ["leading star", "*点击链接领奖", "点击链接领奖"],
    ["star inside, no number anywhere", "点击*链接领奖", "点击*链接领奖"],
    ["leading word then content", "举报：您的包裹无法投递", "您的包裹无法投递"],
    ["text with a number inside", "请拨打13912345678领取", "请拨打13912345678领取"],
    ["English text", "You won a prize, click here", "You won a prize, click here"],
    ["jb is only a leading word when it stands alone", "jbl耳机一折", "jbl耳机一折"],
  ];
  for (const [what, text, content] of cases) {
    it(what, () => expect(parseReportText(text)).toEqual({ status: "content_only", content }));
  }
});

describe("parseReportText: number only", () => {
  const cases: Array<[string, string, string, string]> = [
    ["mobile", "13912345678", "13912345678", "mobile"],
    ["full-width mobile", "１３９１２３４５６７８", "13912345678", "mobile"],
    ["+86 mobile with spaces", "+86 139 1234 5678", "13912345678", "mobile"],
    ["0086 mobile", "0086 13912345678", "13912345678", "mobile"],
    ["number followed by a star", "13912345678*", "13912345678", "mobile"],
    ["number, star, spaces", "13912345678 ＊ ", "13912345678", "mobile"],
    ["SP", "106575000123", "106575000123", "sp"],
    ["landline", "021-65432100", "02165432100", "landline"],
    ["service", "95555", "95555", "service"],
    ["with a leading word", "举报 13912345678", "13912345678", "mobile"],
  ];
  for (const [what, text, number, kind] of cases) {
    it(what, () => expect(parseReportText(text)).toEqual({ status: "number_only", reportedNumber: number, numberKind: kind }));
  }
});

describe("parseReportText: help and text that is no spam content", () => {
  it("a help keyword asks for help, whatever its width, case or punctuation", () => {
    for (const t of ["帮助", "帮助？", "HELP", "help!", "ｈｅｌｐ", "怎么举报?", "举报 帮助", "bz"]) {
      expect(parseReportText(t), t).toMatchObject({ status: "error", code: "help" });
    }
  });
  it("a greeting or a word alone is not the content of a spam message", () => {
    for (const t of ["hello", "你好", "在吗？", "*测试", "ok thanks", "Hi!", "ok"]) {
      expect(parseReportText(t), t).toMatchObject({ status: "error", code: "not_content", content: expect.any(String) });
    }
  });
  it("help words inside a longer text are content", () => {
    expect(parseReportText("帮助您快速贷款，当天放款")).toMatchObject({ status: "content_only" });
    expect(parseReportText("13912345678*帮助")).toMatchObject({ status: "complete", content: "帮助" });
  });
});

describe("parseReportText: errors", () => {
  it("empty", () => {
    for (const t of ["", "   ", "\n", "　"]) expect(parseReportText(t)).toMatchObject({ status: "error", code: "empty" });
  });
  it("only the leading word is empty", () => {
    expect(parseReportText("举报：")).toMatchObject({ status: "error", code: "empty" });
  });
  it("garbage", () => {
    for (const t of ["？？？", "*", "＊＊", "。。。", "!!!***", "-- ()"]) {
      expect(parseReportText(t)).toMatchObject({ status: "error", code: "garbage" });
    }
  });
  it("a number that is not a valid number, keeping the content", () => {
    expect(parseReportText("1391234567*贷款")).toEqual({
      status: "error",
      code: "invalid_number",
      message: expect.stringContaining("1391234567"),
      content: "贷款",
    });
  });
  it("digits alone that are no kind of number", () => {
    expect(parseReportText("12345678")).toMatchObject({ status: "error", code: "invalid_number", content: null });
    expect(parseReportText("+1 212 555 0100*scam")).toMatchObject({ status: "error", code: "invalid_number" });
  });
});
