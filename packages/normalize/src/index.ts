export { normalize } from "./normalize.js";
export type { NormalizedText } from "./normalize.js";
export { classifyPhone, canonicalPhone } from "./extract.js";
export type { PhoneKind } from "./extract.js";
