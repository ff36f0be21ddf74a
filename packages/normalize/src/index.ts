export { normalize } from "./normalize.js";
export type { NormalizedText } from "./normalize.js";
export { classifyPhone, canonicalPhone } from "./extract.js";
export type { PhoneKind } from "./extract.js";
export { extractUrls, MAX_TEXT_CHARS } from "./normalize.js";
export type { UrlMatch } from "./extract.js";
export {
  registrableDomain,
  isPublicSuffix,
  DomainAllowList,
  DomainAllowListError,
  parseDomainAllowList,
  loadDomainAllowList,
  defaultDomainAllowListPath,
  defaultDomainAllowList,
  domainsToBlock,
} from "./domains.js";
