import { canonicalSender } from "@spam/contracts";

const PATTERN = /^(\*|[0-9a-z?]{1,21}\*?)$/;
const MAX_PATTERNS = 256;

/**
 * The source addresses an SMPP account may use. A pattern is `*` (any), or
 * digits/letters where `?` stands for one character, optionally ending in `*`
 * (any rest): `1069*`, `1[3-9]` is written `13*|14*|…`, `95588`, `1??????????`.
 * Patterns match the canonical sender (`+86`/`0086`/`86` before a mainland
 * mobile removed, lower case), so `13*` covers `+8613…` too. Matching is a
 * character loop: no regex over hostile input.
 */
export class SourceRanges {
  private constructor(private readonly patterns: readonly string[]) {}

  static parse(patterns: readonly string[]): SourceRanges {
    if (patterns.length === 0) throw new Error("at least one source range is required (use * for any)");
    if (patterns.length > MAX_PATTERNS) throw new Error(`at most ${MAX_PATTERNS} source ranges`);
    const out: string[] = [];
    for (const raw of patterns) {
      const p = raw.trim().toLowerCase();
      if (!PATTERN.test(p)) throw new Error(`source range ${JSON.stringify(raw.slice(0, 30))} is not * or up to 21 of [0-9a-z?] with an optional trailing *`);
      out.push(p);
    }
    return new SourceRanges(out);
  }

  get any(): boolean {
    return this.patterns.includes("*");
  }

  matches(address: string): boolean {
    const s = canonicalSender(address);
    return this.patterns.some((p) => matchOne(p, s));
  }

  toString(): string {
    return this.patterns.join("|");
  }
}

function matchOne(pattern: string, s: string): boolean {
  const open = pattern.endsWith("*");
  const n = open ? pattern.length - 1 : pattern.length;
  if (open ? s.length < n : s.length !== n) return false;
  for (let i = 0; i < n; i++) {
    const c = pattern[i];
    if (c !== "?" && c !== s[i]) return false;
  }
  return true;
}
