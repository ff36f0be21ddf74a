import { normalize } from "@spam/normalize";

function trigrams(text: string): Set<string> {
  const chars = [...text];
  const out = new Set<string>();
  if (chars.length < 3) {
    if (chars.length > 0) out.add(chars.join(""));
    return out;
  }
  for (let i = 0; i + 3 <= chars.length; i++) out.add(chars.slice(i, i + 3).join(""));
  return out;
}

/**
 * Near-duplicate score of two SMS texts in [0, 1]: Jaccard of character
 * trigrams of the normalised compact form, so evasion (full-width, spacing,
 * traditional characters) and small edits by the reporter still match.
 */
export function textSimilarity(a: string, b: string): number {
  const ta = trigrams(normalize(a).compact);
  const tb = trigrams(normalize(b).compact);
  if (ta.size === 0 || tb.size === 0) return 0;
  let common = 0;
  for (const t of ta) if (tb.has(t)) common++;
  return common / (ta.size + tb.size - common);
}

/** The forms a Chinese mobile number takes on the wire: 139…, 86139…, +86139…. */
export function numberVariants(number: string): string[] {
  const digits = number.replace(/[\s-]/g, "");
  const core = digits.replace(/^(\+?86)(?=1\d{10}$)/, "");
  return [...new Set([digits, core, `86${core}`, `+86${core}`])];
}

/** One key per sender however its number was written (verdict sources carry +86, reports often not). */
export function senderKey(number: string): string {
  return number.replace(/[\s-]/g, "").replace(/^(\+?86)(?=1\d{10}$)/, "");
}
