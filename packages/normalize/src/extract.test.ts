import { describe, expect, it } from "vitest";
import {
  DomainAllowList,
  MAX_TEXT_CHARS,
  domainsToBlock,
  extractUrls,
  isPublicSuffix,
  normalize,
  parseDomainAllowList,
  registrableDomain,
} from "./index.js";

/** The issue's probe: ("a." + "b"*30) * 625, 20,000 characters. */
const issueProbe = (chars: number) => ("a." + "b".repeat(30)).repeat(Math.ceil(chars / 32)).slice(0, chars);

/** Texts that made a regex over SMS text super-linear somewhere on the message path. */
export const PATHOLOGICAL: Record<string, (chars: number) => string> = {
  "dotted labels (issue 17)": issueProbe,
  "63-character labels": (n) => (`${"b".repeat(63)}.`).repeat(Math.ceil(n / 64)).slice(0, n),
  "a digit run": (n) => "1".repeat(n),
  "Chinese numerals": (n) => "一二三".repeat(Math.ceil(n / 3)).slice(0, n),
  "dotted digits": (n) => (`1.${"2".repeat(30)}`).repeat(Math.ceil(n / 32)).slice(0, n),
  "hyphen labels": (n) => (`${"a-".repeat(30)}a.`).repeat(Math.ceil(n / 62)).slice(0, n),
  "schemes": (n) => "http://".repeat(Math.ceil(n / 7)).slice(0, n),
};

/** The least of a few timings: the run least disturbed by other processes on the machine. */
function minMs(f: () => void, runs = 5): number {
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    f();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}

describe("extractUrls: the one URL/host extractor", () => {
  it("finds hosts as normalize does: folded, deobfuscated, punycode, without www.", () => {
    const text = "点击 ＨＴＴＰ：／／ＷＷＷ．Evil-Loan．com．cn/x?a=1 或 abc[.]top 或 https://例子.中国/a";
    expect(extractUrls(text).map((u) => u.domain)).toEqual(["evil-loan.com.cn", "abc.top", "xn--fsqu00a.xn--fiqs8s"]);
    expect(extractUrls(text).map((u) => u.domain)).toEqual(normalize(text).domains);
  });

  it("reads no further than MAX_TEXT_CHARS", () => {
    const far = `${"x ".repeat(MAX_TEXT_CHARS)} http://late.cn`;
    expect(extractUrls(far)).toEqual([]);
    expect(extractUrls(`${"x ".repeat(100)} http://early.cn`).map((u) => u.domain)).toEqual(["early.cn"]);
  });
});

describe("amounts", () => {
  it("still parses amounts after bounding the number pattern", () => {
    expect(normalize("额度50万，日赚5w，首充￥100送３８元，返1,000元，利息2.5k").amounts).toEqual([500000, 50000, 100, 38, 1000, 2500]);
  });
  it("a digit run far longer than any amount is no amount", () => {
    expect(normalize(`${"9".repeat(40)}元`).amounts).toEqual([]);
  });
});

describe("registrable domains and the brand allow list", () => {
  it("reduces hosts to registrable domains by the public-suffix list; suffixes and IPs have none", () => {
    expect(registrableDomain("a.b.evil-loan.com.cn")).toBe("evil-loan.com.cn");
    expect(registrableDomain("x.github.io")).toBe("x.github.io");
    for (const h of ["com.cn", "github.io", "gov.cn", "1.2.3.4"]) expect(registrableDomain(h)).toBeNull();
    expect(isPublicSuffix("com.cn")).toBe(true);
    expect(isPublicSuffix("github.io")).toBe(true);
    expect(isPublicSuffix("evil.com.cn")).toBe(false);
    expect(isPublicSuffix("1.2.3.4")).toBe(false);
  });

  it("a spam text blocks registrable, non-allow-listed domains only", () => {
    const text = "速领 http://com.cn/a 与 https://github.io/x 与 10086.cn 官网 与 https://www.beijing.gov.cn 与 https://pay.evil-loan.com.cn/x 与 http://1.2.3.4/a 与 https://x.github.io";
    expect(domainsToBlock(text)).toEqual(["evil-loan.com.cn", "x.github.io"]);
    expect(domainsToBlock(text, new DomainAllowList([]))).toEqual(["10086.cn", "beijing.gov.cn", "evil-loan.com.cn", "x.github.io"]);
  });

  it("the allow-list file is checked: an entry must be a registrable domain or a public suffix", () => {
    expect(parseDomainAllowList("# brands\n10086.cn # 中国移动\n\ngov.cn\n").has("www.10086.cn")).toBe(true);
    expect(parseDomainAllowList("gov.cn").has("beijing.gov.cn")).toBe(true);
    expect(() => parseDomainAllowList("10086.cn\nwww.jd.com\n", "brands.txt")).toThrow(/brands\.txt:2: "www\.jd\.com"/);
  });
});

describe("pathological texts cost linear time (issue 17, finding 5)", () => {
  // Not a wall-clock race: one pass over 8n characters is compared with eight passes over n,
  // each timing the least of several runs. Linear code gives ≈ 1; a quadratic pattern gives
  // ≈ 8 (and seconds in absolute terms). The bound of 3 leaves room for a shared machine.
  const growth = (f: (t: string) => unknown, make: (chars: number) => string): number => {
    const small = make(MAX_TEXT_CHARS / 8);
    const large = make(MAX_TEXT_CHARS);
    for (let i = 0; i < 3; i++) f(small), f(large); // warm up the JIT on both
    return minMs(() => f(large), 7) / minMs(() => {
      for (let i = 0; i < 8; i++) f(small);
    }, 7);
  };
  for (const [name, make] of Object.entries(PATHOLOGICAL)) {
    it(`normalize and extractUrls on ${name}`, () => {
      expect(growth(normalize, make)).toBeLessThan(3);
      expect(growth(extractUrls, make)).toBeLessThan(3);
    });
  }

  it("the issue's probe and 64 KB texts give their answer", () => {
    expect(extractUrls(issueProbe(20_000))).toEqual([]);
    expect(normalize("1".repeat(65_536)).amounts).toEqual([]);
    const tail = `${issueProbe(64_000)} http://evil.cn`;
    expect(extractUrls(tail)).toEqual([]); // beyond the cap
    expect(extractUrls(`http://evil.cn ${issueProbe(64_000)}`).map((u) => u.domain)).toEqual(["evil.cn"]);
  });
});
