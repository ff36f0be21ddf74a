import { domainToASCII } from "node:url";

export type PhoneKind = "mobile" | "tollfree" | "sp" | "landline";

export interface UrlMatch {
  url: string;
  domain: string;
}

// Top-level domains accepted without a scheme; with a scheme any host is accepted.
const TLDS = [
  "com", "cn", "net", "org", "top", "xyz", "vip", "cc", "me", "io", "info", "biz", "club", "site", "online",
  "shop", "store", "app", "icu", "ltd", "work", "live", "fun", "tk", "ml", "ga", "cf", "gq", "pw", "ws", "mobi",
  "tv", "co", "hk", "tw", "mo", "asia", "wang", "ren", "link", "click", "loan", "win", "bid", "kim", "cyou",
  "sbs", "bond", "life", "pro", "xin", "ink", "red", "run", "gov", "edu", "in", "us", "uk", "jp", "kr", "ru",
  "de", "fr", "sg", "my", "ph", "vn", "th", "la", "to", "ly", "gl", "su", "cloud", "today", "world", "space",
  "website", "tech", "host", "press", "email", "design", "games", "bet", "casino", "vin", "plus", "one", "best",
  "rest", "mba", "cam", "buzz", "monster", "uno", "lol", "men", "party", "date", "trade", "review", "science",
  "racing", "download", "stream", "help", "im", "ai", "ac", "tt", "cx", "sh", "so", "ee", "nz", "au", "ca",
  "中国", "公司", "网络", "在线", "网址", "商城", "中文网", "xn--[a-z0-9-]+",
]
  // Longest first so "com" does not win over "company"-like longer TLDs in the alternation.
  .sort((a, b) => b.length - a.length)
  .join("|");

const STOP = `\\s\\u3000-\\u303f\\u4e00-\\u9fff\\uff00-\\uffef，。！？、；：“”‘’（）【】《》<>"'`;
// A host after a scheme may be an IDN (例子.中国), so only spaces and CJK punctuation end it.
const HOST_STOP = `\\s\\u3000-\\u303f\\uff00-\\uffef，。！？、；：“”‘’（）【】《》<>"'`;
const URL_RE = new RegExp(
  `(?:(?:https?|ftp)://([^${HOST_STOP}/?#:\\\\]+)|(?<![a-z0-9@._-])((?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\\.)+(?:${TLDS}))(?![a-z0-9-]))` +
    `(?::\\d{1,5})?(?:[/?#][^${STOP}]*)?`,
  "g",
);
const URL_TEST = /[a-z0-9]\.[a-z\u4e00-\u9fff]|:\/\//;
// Obfuscated dots: abc[.]cn, abc(.)cn, abc{.}cn, abc[dot]cn, abc dot cn, abc。cn, abc点cn.
const OBF_TEST = /[[({。点]|dot|hxxp/;
const OBF_RE = /([a-z0-9])\s*(?:[[({]\s*(?:\.|dot|点)\s*[\])}]|。|\s+dot\s+|点(?=[a-z]))\s*(?=[a-z0-9])/g;
const TRAILING = /[.,;:!?)\]}'"-]+$/;

export interface UrlScan {
  urls: UrlMatch[];
  /** The scanned text with URLs blanked out (so digits in URLs are not read as phones). */
  rest: string;
}

export function scanUrls(folded: string): UrlScan {
  let s = folded;
  if (OBF_TEST.test(s)) s = s.replace(OBF_RE, "$1.").replace(/hxxp/g, "http");
  if (!URL_TEST.test(s)) return { urls: [], rest: s };
  const urls: UrlMatch[] = [];
  URL_RE.lastIndex = 0;
  const rest = s.replace(URL_RE, (m: string, schemeHost: string | undefined, bareHost: string | undefined) => {
    const url = m.replace(TRAILING, "");
    let host = (schemeHost ?? bareHost ?? "").replace(/\.+$/, "");
    if (host.startsWith("www.")) host = host.slice(4);
    const ascii = domainToASCII(host);
    urls.push({ url, domain: ascii === "" ? host : ascii });
    return " ";
  });
  return { urls, rest };
}

export function classifyPhone(digits: string): PhoneKind | null {
  const n = digits.length;
  if (n < 8 || n > 20) return null;
  const c0 = digits.charCodeAt(0);
  if (c0 === 0x31) {
    if (n === 11 && /^1[3-9]\d{9}$/.test(digits)) return "mobile";
    if (digits.startsWith("106") && n >= 8) return "sp";
    return null;
  }
  if (n === 10 && /^[48]00\d{7}$/.test(digits)) return "tollfree";
  if ((n === 11 || n === 12) && /^0[1-9]\d{9,10}$/.test(digits)) return "landline";
  return null;
}

/** Strips a +86 / 0086 / 86 country prefix from a mobile number. */
export function canonicalPhone(digits: string): string {
  if (digits.length === 13 && digits.startsWith("86") && classifyPhone(digits.slice(2)) === "mobile") return digits.slice(2);
  if (digits.length === 15 && digits.startsWith("0086") && classifyPhone(digits.slice(4)) === "mobile") return digits.slice(4);
  return digits;
}

// Digit groups separated by single separators: 138 1234 5678, 138-1234-5678, 1.3.8…
const DIGIT_RUN = /\d(?:[ \-.*_/]?\d)*/g;

export function extractPhones(rest: string): string[] {
  const out: string[] = [];
  DIGIT_RUN.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = DIGIT_RUN.exec(rest)) !== null) {
    const run = m[0];
    if (run.length < 8) continue;
    const pieces = run.split(/[ \-.*_/]/);
    let i = 0;
    while (i < pieces.length) {
      let acc = "";
      let best = -1;
      let bestVal = "";
      for (let j = i; j < pieces.length; j++) {
        acc += pieces[j];
        if (acc.length > 20) break;
        const canon = canonicalPhone(acc);
        if (classifyPhone(canon) !== null) {
          best = j;
          bestVal = canon;
        }
      }
      if (best >= 0) {
        if (!out.includes(bestVal)) out.push(bestVal);
        i = best + 1;
      } else i++;
    }
  }
  return out;
}

const QQ_RE = /(?:qq|企鹅|q号|扣号)(?:号码|号|群号|群)?(?:是|为)?([1-9]\d{4,10})(?!\d)/g;

export function extractQqIds(compact: string): string[] {
  if (!compact.includes("q") && !compact.includes("企鹅") && !compact.includes("扣")) return [];
  const out: string[] = [];
  QQ_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = QQ_RE.exec(compact)) !== null) {
    const id = m[1]!;
    if (!out.includes(id)) out.push(id);
  }
  return out;
}

const WX_RE = /(?:微信|vx|wx|weixin|加v)(?:号码|号|id)?(?:是|为)?[\s:=]*([a-z][a-z0-9_-]{5,19}|1[3-9]\d{9})(?![a-z0-9_-])/g;

export function extractWechatIds(text: string, compact: string): string[] {
  const out: string[] = [];
  for (const s of [text, compact]) {
    if (!s.includes("微信") && !s.includes("x") && !s.includes("加v")) continue;
    WX_RE.lastIndex = 0;
    let m: RegExpExecArray | null;
    while ((m = WX_RE.exec(s)) !== null) {
      const id = m[1]!;
      if (!out.includes(id)) out.push(id);
    }
    if (out.length > 0) break; // compact is only a fallback for ids split by separators
  }
  return out;
}

// A number starts only where a digit run starts (the lookbehind), and its parts are bounded:
// with `\d+` free to start anywhere, one 64 KB digit run cost O(n²) (tens of seconds).
const AMOUNT_NUM = `(?<![\\d,.])(\\d{1,15}(?:,\\d{3}){0,5}(?:\\.\\d{1,6})?)`;
const AMOUNT_RE = new RegExp(
  `(?:[¥$]|rmb|人民币)\\s?${AMOUNT_NUM}\\s?(万|w(?![a-z])|千|k(?![a-z])|亿)?|${AMOUNT_NUM}\\s?(?:(万|w(?![a-z])|千|k(?![a-z])|亿)\\s?(?:元|块|rmb)?|(元|块钱|块|rmb))`,
  "g",
);
const MULT: Record<string, number> = { 万: 1e4, w: 1e4, 千: 1e3, k: 1e3, 亿: 1e8 };

export function extractAmounts(text: string): number[] {
  const out: number[] = [];
  AMOUNT_RE.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = AMOUNT_RE.exec(text)) !== null) {
    const num = m[1] ?? m[3];
    if (num === undefined) continue;
    const unit = m[2] ?? m[4];
    const v = Number.parseFloat(num.replace(/,/g, "")) * (unit === undefined ? 1 : (MULT[unit] ?? 1));
    if (Number.isFinite(v)) out.push(v);
  }
  return out;
}
