import { MAX_TEXT_CHARS, findNumbers, readableDigits } from "./detect.js";

/**
 * THE masking policy for numbers, everywhere (console, CSV, ClickHouse reply log, logs):
 * an 11-digit mobile keeps its first 3 digits (operator and number segment) and its last 2,
 * `138******00`. Reviewers need no more to tell senders apart (10^5 distinct labels per segment),
 * and six hidden digits leave a million candidates: the common 3+4 form (`138****8000`) hides only
 * four, which anyone with a contact list or a few thousand guesses undoes. Shorter numbers keep
 * fewer digits so that at least half stay hidden; a +86/0086 country code is kept as it says nothing.
 */
export function maskDigits(digits: string): string {
  let cc = "";
  let national = digits;
  if (digits.length === 15 && digits.startsWith("0086")) {
    cc = "0086";
    national = digits.slice(4);
  } else if (digits.length === 13 && digits.startsWith("86")) {
    cc = "86";
    national = digits.slice(2);
  }
  const n = national.length;
  if (n === 0) return cc;
  if (n <= 5) return cc + national.slice(0, 1) + "*".repeat(n - 1);
  const head = n >= 11 ? 3 : n >= 8 ? 2 : 1;
  const tail = 2;
  return cc + national.slice(0, head) + "*".repeat(n - head - tail) + national.slice(-tail);
}

/** Cuts a text to what may be scanned and shown; the cut is marked, never silently dropped. */
function capText(text: string): string {
  return text.length > MAX_TEXT_CHARS ? `${text.slice(0, MAX_TEXT_CHARS)}…[cut]` : text;
}

/** Masks every number a person could read in `text` in place; the rest of the text stays as written. */
export function maskText(text: string): string {
  const t = text.length > MAX_TEXT_CHARS ? capText(text) : text;
  const spans = findNumbers(t);
  if (spans.length === 0) return t;
  let out = "";
  let at = 0;
  for (const s of spans) {
    out += t.slice(at, s.start) + maskDigits(s.digits);
    at = s.end;
  }
  return out + t.slice(at);
}

/**
 * Masks a sender id, reporter or recipient field. A field that is a number however written
 * (`+86 138-0013-8000`, full-width, Chinese numerals) is masked as a whole, short numbers too
 * (`95588` → `9****`); an alphanumeric sender id (a brand) stays, with any number inside it masked.
 */
export function maskNumber(value: string): string {
  const s = value.trim();
  if (s.length === 0) return s;
  const capped = capText(s);
  const digits = readableDigits(capped);
  const spans = findNumbers(capped);
  const whole = spans.length === 1 && spans[0]!.digits.length === digits.length && isOnlyNumber(capped, spans[0]!.start, spans[0]!.end);
  if (whole) return (capped.startsWith("+") ? "+" : "") + maskDigits(spans[0]!.digits);
  if (spans.length === 0 && digits.length > 0 && /^\+?[0-9]+$/.test(s)) return (s.startsWith("+") ? "+" : "") + maskDigits(digits);
  return maskText(capped);
}

function isOnlyNumber(s: string, start: number, end: number): boolean {
  const outside = s.slice(0, start) + s.slice(end);
  return /^[+\s]*$/.test(outside);
}
