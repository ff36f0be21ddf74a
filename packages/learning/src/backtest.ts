import { sql, v, type ClickHouse, type SqlQuery } from "@spam/clickhouse";
import { normalize } from "@spam/normalize";
import { maskNumber, maskText } from "@spam/privacy";
import { createHash } from "node:crypto";
import { RuleLoadError, RuleSet, VelocityState, parseRuleFile } from "@spam/rules";
import type { Logger } from "pino";
import { z } from "zod";

const DAY = 86_400_000;

interface BacktestOptions {
  readonly ch: ClickHouse;
  readonly rules: RuleSet;
  /** Traffic received in the last `days` days before `now`. */
  readonly days: number;
  readonly now?: number;
  /** Sample hits to show (numbers masked); default 10. */
  readonly samples?: number;
  readonly logger: Logger;
  /** Called every 100,000 messages with the count so far. */
  readonly onProgress?: (scanned: number) => void;
}

interface RuleFigures {
  readonly ruleId: string;
  readonly hits: number;
  readonly reviewedSpam: number;
  readonly reviewedHam: number;
}

interface BacktestSample {
  readonly messageId: string;
  readonly receivedAt: number;
  readonly sender: string;
  /** Masked; null when the message was judged legitimate (ham texts are withheld from everybody). */
  readonly text: string | null;
  readonly rules: readonly string[];
  /** The live scorer's label of the message ("" when it has no stored verdict). */
  readonly liveLabel: string;
  readonly reviewed: "spam" | "ham" | null;
}

export interface BacktestResult {
  readonly rulesetVersion: string;
  readonly from: number;
  readonly to: number;
  /** Distinct stored traffic messages in the window. */
  readonly scanned: number;
  /** Messages at least one spam-direction rule (score > 0) fired on. */
  readonly hits: number;
  readonly distinctSenders: number;
  readonly campaigns: number;
  /** Hits a reviewer labelled spam / not spam, and spam / (spam + not spam) among them. */
  readonly reviewedSpam: number;
  readonly reviewedHam: number;
  readonly precisionEstimate: number | null;
  /** Hits the live scorer let through (label ham): what the candidate would newly catch or wrongly hit. */
  readonly hitsLiveAllowed: number;
  readonly byRule: readonly RuleFigures[];
  readonly samples: readonly BacktestSample[];
  readonly seconds: number;
}

/** A candidate rule file that does not compile: the loader's message names the rule and field. */
export class CandidateRulesError extends Error {
  override readonly name = "CandidateRulesError";
}

/**
 * A candidate rule set from one file's text (a rule author's draft from the console), checked by the
 * loader exactly as the live rules are (schema, regex safety); velocity windows of its own.
 */
export function candidateRules(content: string, file = "candidate.yaml"): RuleSet {
  let defs;
  try {
    defs = parseRuleFile(file, content);
  } catch (err) {
    if (err instanceof RuleLoadError) throw new CandidateRulesError(err.message);
    throw err;
  }
  if (defs.length === 0) throw new CandidateRulesError(`${file}: no rules`);
  const ids = new Set<string>();
  for (const d of defs) {
    if (ids.has(d.id)) throw new CandidateRulesError(`${file} rule ${d.id}: id used twice`);
    ids.add(d.id);
  }
  return new RuleSet(defs, createHash("sha256").update(file).update("\0").update(content).digest("hex").slice(0, 16), new VelocityState());
}

const TrafficRow = z.object({
  id: z.string(),
  source: z.string(),
  destination: z.string(),
  at: z.coerce.number(),
  text: z.string(),
  label: z.string(),
  campaign: z.string(),
});

// Aliases differ from the columns: 18.16 would read an alias in WHERE as the aggregate.
const LabelRow = z.object({ message: z.string(), reviewed: z.string() });

/**
 * Traffic of the window, each message once (FINAL), with the live verdict's label and campaign, in time
 * order so velocity rules see each sender's messages as the scorer did. ANY LEFT JOIN: 18.16 needs the
 * strictness spelled out, current ClickHouse the aliases; an unmatched message gets '' for both.
 */
function backtestTrafficQuery(from: number, to: number): SqlQuery {
  return sql`SELECT id, source, destination, toUInt32(received_at) AS at, text, label, campaign
FROM (SELECT id, source, destination, received_at, text FROM traffic_raw FINAL
      WHERE received_at >= ${v.dateTime(from)} AND received_at < ${v.dateTime(to)}) AS stored
ANY LEFT JOIN (SELECT message_id AS id, any(label) AS label, any(ifNull(campaign_id, '')) AS campaign FROM verdicts
      WHERE received_at >= ${v.dateTime(from)} AND received_at < ${v.dateTime(to)} AND kind = 'traffic'
      GROUP BY message_id) AS live USING id
ORDER BY at, id`;
}

/** Reviewers' latest spam / not-spam label per message (escalations are no label). */
function reviewedMessagesQuery(): SqlQuery {
  return sql`SELECT assumeNotNull(message_id) AS message, argMax(label, decided_at) AS reviewed FROM review_labels
WHERE message_id IS NOT NULL AND label IN ('spam', 'ham')
GROUP BY assumeNotNull(message_id)`;
}

/**
 * Runs a candidate rule set over the stored traffic of the last `days` days: rows stream from
 * ClickHouse and are matched one by one, so memory holds the reviewed labels and the distinct
 * senders and campaigns hit, never the traffic.
 */
export async function runBacktest(options: BacktestOptions): Promise<BacktestResult> {
  const started = Date.now();
  const to = options.now ?? Date.now();
  if (!(options.days > 0 && options.days <= 366)) throw new RangeError("days must be in 1…366");
  const from = to - options.days * DAY;
  const want = options.samples ?? 10;
  const rules = options.rules;
  const reviewed = new Map<string, string>();
  for await (const r of options.ch.stream(reviewedMessagesQuery(), LabelRow)) reviewed.set(r.message, r.reviewed);

  const byRule = new Map<string, { hits: number; reviewedSpam: number; reviewedHam: number }>();
  for (const r of rules.rules) byRule.set(r.id, { hits: 0, reviewedSpam: 0, reviewedHam: 0 });
  const senders = new Set<string>();
  const campaigns = new Set<string>();
  const samples: BacktestSample[] = [];
  let scanned = 0;
  let hits = 0;
  let reviewedSpam = 0;
  let reviewedHam = 0;
  let hitsLiveAllowed = 0;
  for await (const row of options.ch.stream(backtestTrafficQuery(from, to), TrafficRow)) {
    scanned++;
    if (scanned % 100_000 === 0) options.onProgress?.(scanned);
    const ruleHits = rules.evaluate({ normalized: normalize(row.text), sender: row.source, recipient: row.destination, at: row.at * 1000, velocity: "record" });
    if (ruleHits.length === 0) continue;
    const label = reviewed.get(row.id);
    let spamward = false;
    for (const h of ruleHits) {
      const f = byRule.get(h.ruleId);
      if (f) {
        f.hits++;
        if (label === "spam") f.reviewedSpam++;
        else if (label === "ham") f.reviewedHam++;
      }
      if (h.score > 0) spamward = true;
    }
    if (!spamward) continue;
    hits++;
    senders.add(row.source);
    if (row.campaign !== "") campaigns.add(row.campaign);
    if (label === "spam") reviewedSpam++;
    else if (label === "ham") reviewedHam++;
    if (row.label === "ham") hitsLiveAllowed++;
    if (samples.length < want) {
      // Legitimate texts are withheld: judged ham by the live scorer or a reviewer, or never scored.
      const withhold = label === "ham" || (label !== "spam" && (row.label === "ham" || row.label === ""));
      samples.push({
        messageId: row.id,
        receivedAt: row.at * 1000,
        sender: maskNumber(row.source),
        text: withhold ? null : maskText(row.text),
        rules: ruleHits.filter((h) => h.score > 0).map((h) => h.ruleId),
        liveLabel: row.label,
        reviewed: label === "spam" || label === "ham" ? label : null,
      });
    }
  }
  const seconds = (Date.now() - started) / 1000;
  options.logger.info({ scanned, hits, seconds }, "backtest done");
  return {
    rulesetVersion: rules.version,
    from,
    to,
    scanned,
    hits,
    distinctSenders: senders.size,
    campaigns: campaigns.size,
    reviewedSpam,
    reviewedHam,
    precisionEstimate: reviewedSpam + reviewedHam > 0 ? reviewedSpam / (reviewedSpam + reviewedHam) : null,
    hitsLiveAllowed,
    byRule: [...byRule].map(([ruleId, f]) => ({ ruleId, ...f })).filter((f) => f.hits > 0),
    samples,
    seconds,
  };
}
