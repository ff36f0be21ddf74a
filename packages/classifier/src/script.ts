/**
 * The one script test of the platform: which characters count as CJK, for the feature extractor
 * (token boundaries, Latin-script weights) and for the scorer (whether a message may take the
 * English second look).
 */

/** CJK, full-width and everything above U+2E80 (emoji and other astral code points included). */
export function isCjkCode(c: number): boolean {
  return c >= 0x2e80;
}

/**
 * Whether normalised text is Latin-script as the extractor counts it: not empty and without a CJK
 * character (for models with token n-grams or latinViews, the ones with Latin-script weights).
 */
export function isLatinScript(normalizedText: string): boolean {
  if (normalizedText.trim().length === 0) return false;
  for (let i = 0; i < normalizedText.length; i++) if (isCjkCode(normalizedText.charCodeAt(i))) return false;
  return true;
}

/**
 * The same test on text as received, before normalisation, so a caller can skip normalising:
 * full-width ASCII (U+FF01–FF5E) and the ideographic space (U+3000) do not count, because NFKC
 * folds them to ASCII; every other character that counts stays CJK after normalisation.
 */
export function hasCjk(rawText: string): boolean {
  for (let i = 0; i < rawText.length; i++) {
    const c = rawText.charCodeAt(i);
    if (isCjkCode(c) && c !== 0x3000 && !(c >= 0xff01 && c <= 0xff5e)) return true;
  }
  return false;
}
