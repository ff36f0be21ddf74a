import { foldWidth, normaliseNumber, type NumberKind } from "./number.js";

export type ParseErrorCode = "empty" | "garbage" | "invalid_number" | "help" | "not_content";

export type ParseResult =
  | { readonly status: "complete"; readonly reportedNumber: string; readonly content: string; readonly numberKind: NumberKind }
  | { readonly status: "content_only"; readonly content: string }
  | { readonly status: "number_only"; readonly reportedNumber: string; readonly numberKind: NumberKind }
  | {
      readonly status: "error";
      readonly code: ParseErrorCode;
      readonly message: string;
      /** What could still be read as content (kept on the stored report). */
      readonly content: string | null;
    };

/** Leading words subscribers put before the report: 举报, 举报：, jb, 投诉 … */
const LEADING_WORD = /^\s*(?:举报|舉報|投诉|jb(?![a-z]))(?:短信|号码)?\s*[:：,，]?\s*/iu;
const NUMBER_CHARS = /^[+\d\s\-().]+$/;
const MEANINGFUL = /[\p{L}\p{N}]/u;

function error(code: ParseErrorCode, message: string, content: string | null = null): ParseResult {
  return { status: "error", code, message, content };
}

function meaningful(text: string): boolean {
  return MEANINGFUL.test(text);
}

/** A subscriber asking how the service works, not reporting: they get the format help. */
const HELP = /^(?:帮助|求助|帮忙|怎么举报|如何举报|举报格式|格式|说明|help|bz)$/iu;
const ASIDE = /[\s\p{P}\p{S}]+/gu;
const IDEOGRAPH = /\p{Script=Han}/u;
const LETTER_OR_DIGIT = /[\p{L}\p{N}]/u;
/** Least weight of a described or forwarded spam text: two ideographs ("中奖") or four Latin letters or digits. */
const MIN_CONTENT_WEIGHT = 4;
/** Greetings and acknowledgements people send to a short code to try it; asking them for a number only confuses. */
const SMALL_TALK = /^(?:你好|您好|在吗|在不在|在么|喂|哈喽|嗨|谢谢|多谢|好的|好|嗯|哦|测试|试试|hello|hi|hey|hallo|ok|okay|thanks|thankyou|okthanks|test|testing)$/iu;

/** Whether text alone (no number) can be the content of a spam message worth asking the number for. */
function plausibleContent(text: string): boolean {
  if (SMALL_TALK.test(foldWidth(text).replace(ASIDE, ""))) return false;
  let weight = 0;
  for (const ch of text) {
    if (IDEOGRAPH.test(ch)) weight += 2;
    else if (LETTER_OR_DIGIT.test(ch)) weight += 1;
    if (weight >= MIN_CONTENT_WEIGHT) return true;
  }
  return false;
}

function contentOnly(content: string): ParseResult {
  return plausibleContent(content)
    ? { status: "content_only", content }
    : error("not_content", "a greeting or a word, not the text of a spam message, and no number", content);
}

/** Strips stars and spaces the subscriber left around the separator. */
function cleanContent(text: string): string {
  return text.replace(/^[\s*＊]+/u, "").trim();
}

/**
 * Parses what a subscriber sends to the report short code:
 * `reported-number*content` and the ways people really type it.
 */
export function parseReportText(raw: string): ParseResult {
  // Width folding maps code unit to code unit, so indices into `folded` cut `text` too:
  // the content keeps the characters the subscriber sent.
  let text = raw.normalize("NFC");
  const lead = LEADING_WORD.exec(foldWidth(text));
  if (lead) text = text.slice(lead[0].length);
  text = text.trim();
  const folded = foldWidth(text);
  if (text.length === 0) return error("empty", "the message is empty");
  if (HELP.test(folded.replace(ASIDE, ""))) return error("help", "the subscriber asks for help");

  const star = folded.indexOf("*");
  if (star >= 0) {
    const before = folded.slice(0, star).trim();
    const after = cleanContent(text.slice(star + 1));
    if (before.length === 0) {
      // "*content": nothing before the star.
      return meaningful(after) ? contentOnly(after) : error("garbage", "no number and no content");
    }
    if (NUMBER_CHARS.test(before)) {
      const n = normaliseNumber(before);
      if (!n) {
        return error("invalid_number", `"${before}" is not a mobile, SP, landline or service number`, meaningful(after) ? after : null);
      }
      if (!meaningful(after)) return { status: "number_only", reportedNumber: n.digits, numberKind: n.kind };
      return { status: "complete", reportedNumber: n.digits, content: after, numberKind: n.kind };
    }
    // The first star is inside the content; maybe the number came last ("content*number").
    const lastStar = folded.lastIndexOf("*");
    const tail = folded.slice(lastStar + 1).trim();
    if (NUMBER_CHARS.test(tail)) {
      const n = normaliseNumber(tail);
      const content = text.slice(0, lastStar).replace(/[\s*＊]+$/u, "").trim();
      if (n && meaningful(content)) return { status: "complete", reportedNumber: n.digits, content, numberKind: n.kind };
    }
    return meaningful(text) ? contentOnly(text) : error("garbage", "no number and no content");
  }

  // No star: the whole text is a number, or a number then whitespace then content.
  if (NUMBER_CHARS.test(folded)) {
    const n = normaliseNumber(folded);
    if (n) return { status: "number_only", reportedNumber: n.digits, numberKind: n.kind };
    if (/\d/.test(folded)) return error("invalid_number", `"${folded.trim()}" is not a mobile, SP, landline or service number`);
    return error("garbage", "no number and no content");
  }
  // Other separators people use instead of the star: # (next to * on the keypad), comma, colon, 、.
  // A service number before a comma or colon is more likely the start of forwarded content
  // ("10086，您好…"), so only # counts after one.
  const alt = /^([+\d][\d\s\-().]*?)\s*([#,:、])/.exec(folded);
  if (alt) {
    const n = normaliseNumber(alt[1]!);
    const content = cleanContent(text.slice(alt[0].length));
    if (n && (n.kind !== "service" || alt[2] === "#") && meaningful(content)) {
      return { status: "complete", reportedNumber: n.digits, content, numberKind: n.kind };
    }
  }
  const leading = /^[+\d][\d\s\-().]*\s/.exec(folded);
  if (leading) {
    // "138 0013 8000 content" vs "13800138000 5元红包": try the longest run of groups that is a number.
    const groups = leading[0].trim().split(/\s+/);
    for (let k = groups.length; k >= 1; k--) {
      const candidate = groups.slice(0, k).join(" ");
      const n = normaliseNumber(candidate);
      if (!n) continue;
      const end = nthGroupEnd(folded, k);
      const content = cleanContent(text.slice(end));
      if (meaningful(content)) return { status: "complete", reportedNumber: n.digits, content, numberKind: n.kind };
    }
  }
  if (!meaningful(text)) return error("garbage", "no number and no content");
  return contentOnly(text);
}

/** Index just after the k-th whitespace-separated group. */
function nthGroupEnd(text: string, k: number): number {
  const re = /\S+/g;
  let m: RegExpExecArray | null = null;
  for (let i = 0; i < k; i++) m = re.exec(text);
  return m ? m.index + m[0].length : 0;
}
