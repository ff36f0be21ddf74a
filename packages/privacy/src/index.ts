export { findNumbers, readableDigits, MAX_TEXT_CHARS, MIN_NUMBER_DIGITS } from "./detect.js";
export type { NumberSpan } from "./detect.js";
export { maskDigits, maskNumber, maskText, capText } from "./mask.js";
export { POLICY, ROLES, mayReveal, present, presentNullable } from "./policy.js";
export type { Field, Role, Treatment } from "./policy.js";
export { LOG_REDACTION, censorLogValue } from "./log.js";
