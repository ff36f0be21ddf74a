import { readFileSync } from "node:fs";
import { getDomain, parse } from "tldts";
import { extractUrls } from "./normalize.js";
import { repoPath } from "@spam/repo-paths";

// Private suffixes (github.io, blogspot.com…) count as suffixes: anyone can get a name under them.
const PSL = { allowPrivateDomains: true } as const;

/**
 * The registrable domain of a host (`a.b.evil-loan.com.cn` → `evil-loan.com.cn`)
 * by the public-suffix list; null for an IP address, a public suffix itself
 * (`com.cn`, `github.io`) or a name that is not a host.
 */
export function registrableDomain(host: string): string | null {
  return getDomain(host, PSL);
}

/** True when the host is a public suffix (ICANN or private): blocking it would block strangers. */
export function isPublicSuffix(host: string): boolean {
  const p = parse(host, PSL);
  return p.publicSuffix === host || (p.domain === null && !p.isIp);
}

class DomainAllowListError extends Error {
  override readonly name = "DomainAllowListError";
}

/**
 * Domains a text match never blocks: big brands, banks, carriers, government.
 * An entry is a registrable domain (covers its sub-domains) or a public suffix
 * such as `gov.cn` (covers every domain under it).
 */
export class DomainAllowList {
  private readonly entries: ReadonlySet<string>;

  constructor(domains: Iterable<string>) {
    this.entries = new Set(domains);
  }

  get size(): number {
    return this.entries.size;
  }

  has(host: string): boolean {
    if (this.entries.has(host)) return true;
    const p = parse(host, PSL);
    return (p.domain !== null && this.entries.has(p.domain)) || (p.publicSuffix !== null && this.entries.has(p.publicSuffix));
  }
}

/** One domain a line, `#` starts a comment. Each entry must be a registrable domain or a public suffix. */
export function parseDomainAllowList(text: string, origin = "domain allow list"): DomainAllowList {
  const out: string[] = [];
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim().toLowerCase();
    if (line === "") return;
    if (registrableDomain(line) !== line && !isPublicSuffix(line)) {
      throw new DomainAllowListError(`${origin}:${i + 1}: "${line}" is neither a registrable domain nor a public suffix`);
    }
    out.push(line);
  });
  return new DomainAllowList(out);
}

function loadDomainAllowList(path: string): DomainAllowList {
  return parseDomainAllowList(readFileSync(path, "utf8"), path);
}

/** rules/allowlist/brand-domains.txt of the repository (services run from the repo). */
function defaultDomainAllowListPath(): string {
  return repoPath("rules/allowlist/brand-domains.txt");
}

let defaultList: DomainAllowList | undefined;

/** The repository's brand allow list, read once. */
function defaultDomainAllowList(): DomainAllowList {
  defaultList ??= loadDomainAllowList(defaultDomainAllowListPath());
  return defaultList;
}

/**
 * What a spam decision on this text blocks: the registrable domain of each URL
 * host, never a public suffix or an IP, never an allow-listed domain. In order
 * of appearance, each once.
 */
export function domainsToBlock(text: string, allow: DomainAllowList = defaultDomainAllowList()): string[] {
  const out: string[] = [];
  for (const u of extractUrls(text)) {
    const d = registrableDomain(u.domain);
    if (d !== null && !allow.has(d) && !out.includes(d)) out.push(d);
  }
  return out;
}
