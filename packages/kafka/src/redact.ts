import type { DeadLetter } from "@spam/contracts";

/**
 * A run of at least 7 digits (ASCII or full-width), separators between them allowed: what may be a
 * subscriber's number. The classes of digits and separators are disjoint, so matching stays linear.
 */
const NUMBER_RUN = /[+＋]?[0-9０-９](?:[\s.\-/\u200b-\u200d\u2060\ufeff]*[0-9０-９]){6,}/g;

/** Keeps the first three digits (the carrier prefix, for debugging) and stars the rest. */
function maskRun(run: string): string {
  let kept = 0;
  return run.replace(/[0-9０-９]/g, (d) => (kept++ < 3 ? d : "*"));
}

/**
 * Masks numbers in a dead letter's text. Local stand-in for the platform's masking policy
 * (@spam/privacy, to switch to when it lands): dead letters are kept for debugging, so only what a
 * subscriber's number could be is masked; the record keeps its shape.
 */
export function redactNumbers(text: string): string {
  return text.replace(NUMBER_RUN, maskRun);
}

function redactJson(value: unknown): unknown {
  if (typeof value === "string") return redactNumbers(value);
  if (Array.isArray(value)) return value.map(redactJson);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([k, v]) => [k, redactJson(v)]));
  }
  return value;
}

/**
 * A record's value with the numbers of reporters and recipients masked: JSON keeps its structure
 * (every string masked), anything else is masked as text. Base64 in and out, as dead letters store it.
 */
function redactValue(value: Buffer): Buffer {
  const text = value.toString("utf8");
  try {
    return Buffer.from(JSON.stringify(redactJson(JSON.parse(text) as unknown)), "utf8");
  } catch {
    return Buffer.from(redactNumbers(text), "utf8");
  }
}

/** Every dead letter is built through this: its key, value and error may quote a subscriber's number. */
export function redactDeadLetter(d: DeadLetter): DeadLetter {
  return {
    ...d,
    key: d.key === null ? null : redactNumbers(d.key),
    valueBase64: d.valueBase64 === null ? null : redactValue(Buffer.from(d.valueBase64, "base64")).toString("base64"),
    error: redactNumbers(d.error),
  };
}
