export { readableDigits, MAX_TEXT_CHARS } from "./detect.js";
export { maskDigits, maskNumber, maskText } from "./mask.js";
export { POLICY, mayReveal, present, presentNullable } from "./policy.js";
export type { Role } from "./policy.js";
export { LOG_REDACTION } from "./log.js";
