export { normalize } from "./normalize.js";
export type { NormalizedText } from "./normalize.js";
export { classifyPhone, canonicalPhone } from "./extract.js";
export { extractUrls, MAX_TEXT_CHARS } from "./normalize.js";
export {
  registrableDomain,
  isPublicSuffix,
  DomainAllowList,
  parseDomainAllowList,
  domainsToBlock,
} from "./domains.js";
