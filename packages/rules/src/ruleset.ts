import { normalize, type NormalizedText } from "@spam/normalize";
import type { VerdictAction } from "@spam/contracts";
import { domainToASCII } from "node:url";
import { AhoCorasick } from "./aho-corasick.js";
import type { RuleDef, RuleKind } from "./schema.js";
import { SenderMatcher, canonicalSender } from "./sender.js";
import { VelocityState, recipientHash, type WindowTable } from "./velocity.js";

export interface RuleHit {
  ruleId: string;
  score: number;
  category: string;
  action: VerdictAction;
  kind: RuleKind;
  /** Why it fired, for reviewers: the keywords, pattern, domain, sender entry or counts. */
  detail: string;
}

export interface EvaluateInput {
  normalized: NormalizedText;
  sender: string;
  recipient: string;
  /** Epoch milliseconds of the message (drives velocity windows). */
  at: number;
  /**
   * "record" (default): count the message in the sender's windows. "observe": read the windows
   * without counting (the message was counted before, e.g. redelivered after a restore).
   * "skip": no velocity rules (e.g. a subscriber's report quoting the sender).
   */
  velocity?: "record" | "observe" | "skip";
}

/** Text beyond this is not given to regexes: bounds their cost on long concatenated messages. */
const REGEX_INPUT_MAX = 2_000;
const DETAIL_MAX = 500;

interface CompiledRegex {
  rule: number;
  re: RegExp;
  field: "text" | "compact";
}

/** A compiled, immutable rule set (velocity state is shared and lives outside it). */
export class RuleSet {
  readonly version: string;
  readonly rules: readonly RuleDef[];
  readonly velocity: VelocityState;
  private readonly automaton: AhoCorasick;
  /** Keyword index → rule indexes using it. */
  private readonly keywordRules: number[][];
  private readonly keywords: string[];
  private readonly minMatches: Int32Array;
  private readonly regexes: CompiledRegex[] = [];
  private readonly domains = new Map<string, number[]>();
  private readonly senders = new SenderMatcher();
  private readonly allowSenders = new SenderMatcher();
  private readonly signatures = new Map<string, number[]>();
  private readonly velocityRules: number[] = [];
  /** Distinct window lengths of the velocity rules, their tables, and each velocity rule's window. */
  private readonly velocityTables: WindowTable[] = [];
  private readonly velocityRuleWindow: number[] = [];
  private readonly windowMessages: Int32Array;
  private readonly windowDistinct: Int32Array;
  private readonly hasAllowSignatures: boolean;
  // Scratch per evaluation (evaluate is synchronous, so reuse is safe).
  private readonly kwSeen: Int32Array;
  private readonly ruleMatchCount: Int32Array;
  private readonly ruleStamp: Int32Array;
  private stamp = 0;

  /** Rules must already be validated and regex-checked (see loadRuleSet). */
  constructor(rules: readonly RuleDef[], version: string, velocity: VelocityState) {
    this.version = version;
    this.velocity = velocity;
    const enabled = rules.filter((r) => r.enabled);
    this.rules = enabled;
    const kwIndex = new Map<string, number>();
    this.keywords = [];
    this.keywordRules = [];
    this.minMatches = new Int32Array(enabled.length);
    enabled.forEach((r, i) => {
      switch (r.kind) {
        case "keyword": {
          this.minMatches[i] = r.minMatches;
          for (const kw of r.keywords) {
            const c = keywordForm(kw);
            let k = kwIndex.get(c);
            if (k === undefined) {
              k = this.keywords.length;
              kwIndex.set(c, k);
              this.keywords.push(c);
              this.keywordRules.push([]);
            }
            const list = this.keywordRules[k]!;
            if (!list.includes(i)) list.push(i);
          }
          break;
        }
        case "regex":
          for (const p of r.patterns) this.regexes.push({ rule: i, re: new RegExp(p, "u"), field: r.field });
          break;
        case "domain":
          for (const d of r.domains) {
            const key = domainForm(d);
            const list = this.domains.get(key);
            if (list === undefined) this.domains.set(key, [i]);
            else if (!list.includes(i)) list.push(i);
          }
          break;
        case "sender":
          this.senders.add(i, r);
          break;
        case "velocity":
          this.velocityRules.push(i);
          break;
        case "allowlist":
          this.allowSenders.add(i, r);
          for (const s of r.signatures) {
            const key = normalize(s).text;
            const list = this.signatures.get(key);
            if (list === undefined) this.signatures.set(key, [i]);
            else list.push(i);
          }
          break;
      }
    });
    for (const i of this.velocityRules) {
      const r = enabled[i]!;
      const windowMs = r.kind === "velocity" ? r.windowSeconds * 1000 : 0;
      let w = this.velocityTables.findIndex((t) => t.windowMs === windowMs);
      if (w < 0) {
        w = this.velocityTables.length;
        this.velocityTables.push(velocity.table(windowMs));
      }
      this.velocityRuleWindow.push(w);
    }
    this.windowMessages = new Int32Array(this.velocityTables.length);
    this.windowDistinct = new Int32Array(this.velocityTables.length);
    this.hasAllowSignatures = this.signatures.size > 0;
    this.automaton = new AhoCorasick(this.keywords);
    this.kwSeen = new Int32Array(this.keywords.length);
    this.ruleMatchCount = new Int32Array(enabled.length);
    this.ruleStamp = new Int32Array(enabled.length);
  }

  get keywordCount(): number {
    return this.keywords.length;
  }

  /** True when the sender is on an allow list (service and notification numbers). */
  isAllowListedSender(sender: string): boolean {
    return this.allowListed(canonicalSender(sender));
  }

  private allowListed(canonical: string): boolean {
    let hit = false;
    this.allowSenders.match(canonical, () => {
      hit = true;
    });
    return hit;
  }

  /** The longest velocity window of the enabled rules, in ms (0 without velocity rules). */
  get velocityWindowMs(): number {
    let max = 0;
    for (const t of this.velocityTables) max = Math.max(max, t.windowMs);
    return max;
  }

  /**
   * Counts one traffic message in the velocity windows without evaluating any rule: what
   * `evaluate` records for it, for rebuilding the windows from traffic already scored.
   */
  recordVelocity(input: { sender: string; recipient: string; at: number }): void {
    const sender = canonicalSender(input.sender);
    if (this.velocityTables.length === 0 || sender === "" || this.allowListed(sender)) return;
    this.countInWindows(sender, input.recipient, input.at);
  }

  /** Counts one message in every window; the counts including it land in windowMessages / windowDistinct. */
  private countInWindows(sender: string, recipient: string, at: number): void {
    const hash = recipientHash(canonicalSender(recipient));
    const tables = this.velocityTables;
    for (let w = 0; w < tables.length; w++) {
      const t = tables[w]!;
      this.windowMessages[w] = t.record(sender, hash, at);
      this.windowDistinct[w] = t.lastDistinct;
    }
  }

  /**
   * All rules that fire for one message, in rule order per kind. Records the
   * message in the velocity windows (so call it once per message).
   */
  evaluate(input: EvaluateInput): RuleHit[] {
    const hits: RuleHit[] = [];
    const rules = this.rules;
    const { normalized } = input;
    const sender = canonicalSender(input.sender);

    // Allow lists first: an allow-listed sender skips sender and velocity rules.
    let allowListed = false;
    this.allowSenders.match(sender, (i, how) => {
      allowListed = true;
      hits.push(hit(rules[i]!, how));
    });
    if (this.hasAllowSignatures) {
      for (const sig of signaturesOf(normalized.text)) {
        const list = this.signatures.get(sig);
        if (list !== undefined) for (const i of list) hits.push(hit(rules[i]!, `signature ${sig}`));
      }
    }

    // Keywords: one pass of the automaton over the compact text.
    if (this.keywords.length > 0) {
      const stamp = ++this.stamp;
      const kwSeen = this.kwSeen;
      const counts = this.ruleMatchCount;
      const ruleStamp = this.ruleStamp;
      const matched: number[] = [];
      this.automaton.search(normalized.compact, (k) => {
        if (kwSeen[k] === stamp) return;
        kwSeen[k] = stamp;
        matched.push(k);
        for (const r of this.keywordRules[k]!) {
          if (ruleStamp[r] !== stamp) {
            ruleStamp[r] = stamp;
            counts[r] = 0;
          }
          counts[r]!++;
        }
      });
      if (matched.length > 0) {
        const fired: number[] = [];
        for (const k of matched) {
          for (const r of this.keywordRules[k]!) if (counts[r]! >= this.minMatches[r]! && !fired.includes(r)) fired.push(r);
        }
        fired.sort((a, b) => a - b);
        for (const r of fired) {
          const kws = matched.filter((k) => this.keywordRules[k]!.includes(r)).map((k) => this.keywords[k]!);
          hits.push(hit(rules[r]!, `keywords: ${kws.join(", ")}`));
        }
      }
    }

    // Regexes.
    if (this.regexes.length > 0) {
      let last = -1;
      const text = normalized.text.length > REGEX_INPUT_MAX ? normalized.text.slice(0, REGEX_INPUT_MAX) : normalized.text;
      const compact =
        normalized.compact.length > REGEX_INPUT_MAX ? normalized.compact.slice(0, REGEX_INPUT_MAX) : normalized.compact;
      for (const rx of this.regexes) {
        if (rx.rule === last) continue; // one hit per rule
        const m = rx.re.exec(rx.field === "text" ? text : compact);
        if (m !== null) {
          last = rx.rule;
          hits.push(hit(rules[rx.rule]!, `pattern /${rx.re.source}/ matched "${m[0]}"`));
        }
      }
    }

    // Domains: the domain and each parent domain.
    if (this.domains.size > 0 && normalized.domains.length > 0) {
      const fired = new Set<number>();
      for (const d of normalized.domains) {
        let s = d;
        for (;;) {
          const list = this.domains.get(s);
          if (list !== undefined) {
            for (const i of list) {
              if (fired.has(i)) continue;
              fired.add(i);
              hits.push(hit(rules[i]!, `domain ${d} (listed ${s})`));
            }
          }
          const dot = s.indexOf(".");
          if (dot < 0) break;
          s = s.slice(dot + 1);
        }
      }
    }

    if (!allowListed) {
      const fired = new Set<number>();
      this.senders.match(sender, (i, how) => {
        if (fired.has(i)) return;
        fired.add(i);
        hits.push(hit(rules[i]!, how));
      });
      const mode = input.velocity ?? "record";
      if (this.velocityRules.length > 0 && sender !== "" && mode !== "skip") {
        // Each window length is recorded once per message; nothing here allocates unless a rule fires.
        const tables = this.velocityTables;
        if (mode === "record") this.countInWindows(sender, input.recipient, input.at);
        else {
          for (let w = 0; w < tables.length; w++) {
            const t = tables[w]!;
            this.windowMessages[w] = t.peek(sender, input.at);
            this.windowDistinct[w] = t.lastDistinct;
          }
        }
        const vr = this.velocityRules;
        for (let k = 0; k < vr.length; k++) {
          const r = rules[vr[k]!]!;
          if (r.kind !== "velocity") continue;
          const w = this.velocityRuleWindow[k]!;
          const value = r.metric === "messages" ? this.windowMessages[w]! : this.windowDistinct[w]!;
          if (value > r.threshold) {
            const what = r.metric === "messages" ? "messages" : "distinct recipients";
            hits.push(hit(r, `${value} ${what} in ${r.windowSeconds}s > ${r.threshold}`));
          }
        }
      }
    }
    return hits;
  }
}

function hit(r: RuleDef, detail: string): RuleHit {
  return {
    ruleId: r.id,
    score: r.score,
    category: r.category,
    action: r.action,
    kind: r.kind,
    detail: detail.length > DETAIL_MAX ? detail.slice(0, DETAIL_MAX) : detail,
  };
}

/** Keywords are matched on the compact form, so they are normalised the same way. */
export function keywordForm(kw: string): string {
  return normalize(kw).compact;
}

function domainForm(d: string): string {
  let s = d.trim().toLowerCase().replace(/^\*\./, "").replace(/^\.+|\.+$/g, "");
  if (s.startsWith("www.")) s = s.slice(4);
  const ascii = domainToASCII(s);
  return ascii === "" ? s : ascii;
}

/** 【签名】 at the start or end of a message. */
function signaturesOf(text: string): string[] {
  const out: string[] = [];
  if (text.startsWith("【")) {
    const end = text.indexOf("】");
    if (end > 0 && end <= 41) out.push(text.slice(0, end + 1));
  }
  if (text.endsWith("】")) {
    const start = text.lastIndexOf("【");
    if (start >= 0 && text.length - start <= 42 && start > 0) out.push(text.slice(start));
  }
  return out;
}
