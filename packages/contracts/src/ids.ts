import { randomBytes } from "node:crypto";

// RFC 4648 base32, lower-case: readable in URLs and logs, no ambiguity with case.
const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

/**
 * A new review-case id: `c_` and 20 base32 characters (100 random bits).
 * Derived from nothing: a case id travels in URLs, CSV exports and request
 * logs that analysts can read, so it must not carry a number or a time.
 */
export function newCaseId(): string {
  const bytes = randomBytes(20);
  let s = "c_";
  for (const b of bytes) s += ALPHABET[b & 31];
  return s;
}

/** The shape of ids made by newCaseId. */
export const CASE_ID_PATTERN = /^c_[a-z2-7]{20}$/;
