/**
 * Masks a phone number or sender id for display: the operator forbids
 * photographing review screens, so full numbers appear only after an audited reveal.
 * Keeps the prefix (operator/region) and the last two digits, which is what
 * reviewers need to tell senders apart.
 */
export function maskNumber(value: string): string {
  const s = value.trim();
  if (s.length === 0) return s;
  if (!/^\+?\d+$/.test(s)) {
    // Alphanumeric sender ids (brand names) are not personal data, but short
    // numeric-looking ones are masked like numbers above.
    return s;
  }
  const plus = s.startsWith("+") ? "+" : "";
  let digits = s.slice(plus.length);
  let cc = "";
  if (digits.length === 13 && digits.startsWith("86")) {
    // Country code kept: the mobile number behind it is masked like a domestic one.
    cc = "86";
    digits = digits.slice(2);
  }
  if (digits.length <= 5) return plus + cc + digits.slice(0, 1) + "*".repeat(Math.max(0, digits.length - 1));
  const keepHead = digits.length >= 11 ? 3 : 2;
  return plus + cc + digits.slice(0, keepHead) + "*".repeat(digits.length - keepHead - 2) + digits.slice(-2);
}

const NUMBER_IN_TEXT = /(\+?\d[\d -]{6,}\d)/g;

/** Masks numbers that appear inside message text (call-back numbers, account numbers). */
export function maskNumbersInText(text: string): string {
  return text.replace(NUMBER_IN_TEXT, (m) => maskNumber(m.replace(/[ -]/g, "")));
}
