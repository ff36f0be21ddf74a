import { describe, expect, it } from "vitest";
import { canonicalPhone, classifyPhone, normalize } from "./index.js";

describe("normalize: folding", () => {
  it("applies NFKC and full-width to half-width", () => {
    expect(normalize("ＡＢＣ１２３！").text).toBe("abc123!");
    expect(normalize("ｔｅｓｔ　ｐｈｏｎｅ").text).toBe("test phone");
  });

  it("folds case, including non-ASCII letters", () => {
    expect(normalize("HeLLo ÄÖ").text).toBe("hello äö");
  });

  it("converts traditional to simplified Chinese", () => {
    expect(normalize("發票 貸款 賭場 銀行").text).toBe("发票贷款赌场银行");
  });

  it("removes zero-width and format characters", () => {
    expect(normalize("发\u200b票\u200d代\u00ad开\ufeff").text).toBe("发票代开");
    expect(normalize("贷\u2060款\u202e").compact).toBe("贷款");
  });

  it("maps Cyrillic and Greek lookalike letters to Latin", () => {
    expect(normalize("саsіnо").text).toBe("casino");
  });

  it("collapses whitespace runs and trims", () => {
    expect(normalize("  hello \t\n  world  ").text).toBe("hello world");
  });
});

describe("normalize: evasion separators", () => {
  it.each(["发 票", "发.票", "发*票", "发-票", "发_票", "发|票", "发 . 票", "发·票", "发／票"])("%s becomes 发票", (s) => {
    const r = normalize(s);
    expect(r.text).toBe("发票");
    expect(r.compact).toBe("发票");
  });

  it("keeps normal sentence punctuation and Latin word spaces readable", () => {
    const r = normalize("你好，明天见。Meet me at 3 pm!");
    expect(r.text).toBe("你好,明天见。meet me at 3 pm!");
    expect(r.compact).toBe("你好明天见meetmeat3pm");
  });

  it("compact drops every separator, space and punctuation mark", () => {
    expect(normalize("代-开/增值税 专.用【发票】！").compact).toBe("代开增值税专用发票");
  });
});

describe("normalize: digit variants", () => {
  it("maps circled and dingbat digits", () => {
    expect(normalize("①②③ ⑩ ❶❷ ➊ ⓵").compact).toBe("123101211");
  });

  it("maps full-width digits", () => {
    expect(normalize("１３８").text).toBe("138");
  });

  it("turns Chinese numerals into digits only when they form a number run", () => {
    expect(normalize("一三八一二三四五六七八").text).toBe("13812345678");
    expect(normalize("一二三").text).toBe("123");
    expect(normalize("壹贰叁肆").text).toBe("1234");
    expect(normalize("幺三八〇〇").text).toBe("13800");
    expect(normalize("138〇〇〇12345").phones).toEqual(["13800012345"]);
  });

  it("leaves numerals in ordinary words alone", () => {
    expect(normalize("一起去吃饭").text).toBe("一起去吃饭");
    expect(normalize("三五成群").text).toBe("三五成群");
  });
});

describe("normalize: homoglyph phrases", () => {
  it.each(["V信", "v信", "威信", "薇信", "徽信", "维信", "wei信", "微xin", "weixin", "Ｖ信", "V 信"])("%s becomes 微信", (s) => {
    expect(normalize(`加${s}详聊`).compact).toBe("加微信详聊");
  });

  it.each(["ＱＱ", "Ｑ Ｑ", "扣扣", "抠抠", "QQ"])("%s becomes qq", (s) => {
    expect(normalize(`加${s}群`).compact).toBe("加qq群");
  });
});

describe("normalize: URL extraction", () => {
  it("finds URLs with a scheme", () => {
    const r = normalize("点击 https://Evil.Example.com/a?b=1 领取");
    expect(r.urls).toEqual(["https://evil.example.com/a?b=1"]);
    expect(r.domains).toEqual(["evil.example.com"]);
  });

  it("finds schemeless URLs and strips www.", () => {
    const r = normalize("登录abc.cn/x领奖，或 www.daikuan.top");
    expect(r.urls).toEqual(["abc.cn/x", "www.daikuan.top"]);
    expect(r.domains).toEqual(["abc.cn", "daikuan.top"]);
  });

  it("deobfuscates abc[.]cn, abc(.)cn, abc dot cn, abc。cn and hxxp", () => {
    expect(normalize("访问 abc[.]cn/x").domains).toEqual(["abc.cn"]);
    expect(normalize("访问 abc(.)cn").domains).toEqual(["abc.cn"]);
    expect(normalize("访问 abc dot cn").domains).toEqual(["abc.cn"]);
    expect(normalize("访问abc。com").domains).toEqual(["abc.com"]);
    expect(normalize("hxxp://bad.xyz/p").urls).toEqual(["http://bad.xyz/p"]);
  });

  it("returns IDN domains in punycode", () => {
    expect(normalize("打开 http://例子.中国/abc").domains).toEqual(["xn--fsqu00a.xn--fiqs8s"]);
    expect(normalize("打开 xn--fsqu00a.xn--fiqs8s").domains).toEqual(["xn--fsqu00a.xn--fiqs8s"]);
  });

  it("does not read decimals, versions or e-mail domains as URLs", () => {
    expect(normalize("利率3.5% 版本v1.0 邮箱 a@qq.com").urls).toEqual([]);
  });
});

describe("normalize: phone extraction", () => {
  it("finds mobiles written with separators or a +86 prefix", () => {
    expect(normalize("电话 138-1234-5678").phones).toEqual(["13812345678"]);
    expect(normalize("电话 138 1234 5678").phones).toEqual(["13812345678"]);
    expect(normalize("电话 +86 139 1234 5678").phones).toEqual(["13912345678"]);
  });

  it("finds 400/800, landlines and 106 SP numbers", () => {
    const r = normalize("热线400-800-1234，座机010-12345678，0755-1234567，短信1069012345678");
    expect(r.phones).toEqual(["4008001234", "01012345678", "07551234567", "1069012345678"]);
  });

  it("separates two adjacent numbers", () => {
    expect(normalize("13812345678 13912345678").phones).toEqual(["13812345678", "13912345678"]);
  });

  it("ignores digits inside URLs and short numbers", () => {
    expect(normalize("abc.cn/13812345678 验证码 123456").phones).toEqual([]);
  });

  it("classifies numbers", () => {
    expect(classifyPhone("13812345678")).toBe("mobile");
    expect(classifyPhone("4001234567")).toBe("tollfree");
    expect(classifyPhone("106575551234")).toBe("sp");
    expect(classifyPhone("02112345678")).toBe("landline");
    expect(classifyPhone("12345678")).toBeNull();
    expect(canonicalPhone("8613812345678")).toBe("13812345678");
  });
});

describe("normalize: QQ, WeChat, amounts", () => {
  it("finds QQ ids after qq / 扣扣 / 企鹅 markers, also full-width and spaced", () => {
    expect(normalize("加ＱＱ：１２３４５６７８").qqIds).toEqual(["12345678"]);
    expect(normalize("扣扣 88886666").qqIds).toEqual(["88886666"]);
    expect(normalize("企鹅号 5 5 5 6 6 6").qqIds).toEqual(["555666"]);
    expect(normalize("qq群号:70000001").qqIds).toEqual(["70000001"]);
  });

  it("finds WeChat ids after 微信 and its homoglyphs", () => {
    expect(normalize("加V信：Abc_123 详询").wechatIds).toEqual(["abc_123"]);
    expect(normalize("威信号 dk8888a").wechatIds).toEqual(["dk8888a"]);
    expect(normalize("vx: hello-99").wechatIds).toEqual(["hello-99"]);
    expect(normalize("微信同号13812345678").wechatIds).toEqual([]);
    expect(normalize("微信13812345678").wechatIds).toEqual(["13812345678"]);
  });

  it("parses amounts in 元, 万, w, ￥", () => {
    expect(normalize("额度50万，日赚5w，首充￥100送３８元，返1,000元").amounts).toEqual([500000, 50000, 100, 38, 1000]);
    expect(normalize("利息 2.5k").amounts).toEqual([2500]);
  });
});
