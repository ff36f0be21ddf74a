import { sql, v, type ClickHouse, type SqlFragment, type SqlQuery } from "@spam/clickhouse";
import { z } from "zod";

/** What a shadow (candidate model, rule set or both) would have done beside the live one, from the verdicts' shadow columns (0007). */
interface ShadowModelFigures {
  readonly shadowModelVersion: string;
  /** The shadow's candidate rule set ("": it used the live rules). */
  readonly shadowRulesetVersion: string;
  /** Traffic messages the shadow scored in the window. */
  readonly scored: number;
  /** Flagged or blocked (label spam or suspect): the volume each would act on. */
  readonly liveCalled: number;
  readonly shadowCalled: number;
  /** Called by the shadow only / by the live model only. */
  readonly shadowOnly: number;
  readonly liveOnly: number;
  /** Among messages a reviewer labelled: how many each called, by the reviewer's label. */
  readonly reviewed: { readonly spam: number; readonly ham: number; readonly shadowCalledSpam: number; readonly shadowCalledHam: number; readonly liveCalledSpam: number; readonly liveCalledHam: number };
  /** Reviewed spam / reviewed messages among what each called; null without a reviewed call. */
  readonly shadowPrecision: number | null;
  readonly livePrecision: number | null;
}

interface ShadowDisagreement {
  readonly messageId: string;
  readonly receivedAt: number;
  /** As stored: the caller masks it for whoever reads it. */
  readonly source: string;
  readonly liveLabel: string;
  readonly liveScore: number;
  readonly shadowModelVersion: string;
  readonly shadowRulesetVersion: string;
  readonly shadowLabel: string;
  readonly shadowScore: number;
  readonly reviewed: "spam" | "ham" | null;
}

export interface ShadowReport {
  readonly models: readonly ShadowModelFigures[];
  /** Latest first. */
  readonly disagreements: readonly ShadowDisagreement[];
}

const CALLED = ["spam", "suspect"];
const called = (column: SqlFragment) => sql`${column} IN (${v.string(CALLED[0]!)}, ${v.string(CALLED[1]!)})`;

function shadowVerdicts(from: Date, to: Date, extra: SqlFragment = sql``): SqlFragment {
  return sql`SELECT message_id AS mid, received_at, source, label, score, shadow_label, ifNull(shadow_score, 0) AS shadow_p, shadow_model_version, shadow_ruleset_version
      FROM verdicts FINAL
     WHERE received_at >= ${v.dateTime(from)} AND received_at < ${v.dateTime(to)} AND kind = 'traffic' AND shadow_model_version != '' ${extra}`;
}

/** Reviewers' latest spam / not-spam label per message; the aliases differ from the columns for 18.16. */
const REVIEWED = sql`SELECT assumeNotNull(message_id) AS mid, argMax(label, decided_at) AS reviewed FROM review_labels
     WHERE message_id IS NOT NULL AND label IN ('spam', 'ham') GROUP BY assumeNotNull(message_id)`;

const LIVE = sql`label`;
const SHADOW = sql`shadow_label`;

function shadowSummaryQuery(from: Date, to: Date): SqlQuery {
  return sql`SELECT shadow_model_version AS shadow_model, shadow_ruleset_version AS shadow_rules, count() AS scored,
       countIf(${called(LIVE)}) AS live_called, countIf(${called(SHADOW)}) AS shadow_called,
       countIf(${called(SHADOW)} AND NOT ${called(LIVE)}) AS shadow_only, countIf(${called(LIVE)} AND NOT ${called(SHADOW)}) AS live_only
  FROM (${shadowVerdicts(from, to)}) AS sv
 GROUP BY shadow_model_version, shadow_ruleset_version ORDER BY shadow_model_version, shadow_ruleset_version`;
}

function shadowReviewedQuery(from: Date, to: Date): SqlQuery {
  return sql`SELECT shadow_model_version AS shadow_model, shadow_ruleset_version AS shadow_rules, reviewed, count() AS n,
       countIf(${called(SHADOW)}) AS shadow_called, countIf(${called(LIVE)}) AS live_called
  FROM (${shadowVerdicts(from, to)}) AS sv
  ANY INNER JOIN (${REVIEWED}) AS rv USING mid
 GROUP BY shadow_model_version, shadow_ruleset_version, reviewed`;
}

function shadowDisagreementsQuery(from: Date, to: Date, limit: number): SqlQuery {
  return sql`SELECT mid, toUInt32(received_at) AS at, source, label, score, shadow_model_version AS shadow_model, shadow_ruleset_version AS shadow_rules, shadow_label, shadow_p, reviewed
  FROM (${shadowVerdicts(from, to, sql`AND (${called(LIVE)}) != (${called(SHADOW)})`)}) AS sv
  ANY LEFT JOIN (${REVIEWED}) AS rv USING mid
 ORDER BY received_at DESC, mid LIMIT ${v.uint32(limit)}`;
}

const n = z.coerce.number();
const SummaryRow = z.object({ shadow_model: z.string(), shadow_rules: z.string(), scored: n, live_called: n, shadow_called: n, shadow_only: n, live_only: n });
const ReviewedRow = z.object({ shadow_model: z.string(), shadow_rules: z.string(), reviewed: z.string(), n, shadow_called: n, live_called: n });
const DisagreementRow = z.object({ mid: z.string(), at: n, source: z.string(), label: z.string(), score: n, shadow_model: z.string(), shadow_rules: z.string(), shadow_label: z.string(), shadow_p: n, reviewed: z.string() });

export async function shadowReport(ch: ClickHouse, range: { from: Date; to: Date }, limit = 50): Promise<ShadowReport> {
  const [summary, reviewed, rows] = await Promise.all([
    ch.query(shadowSummaryQuery(range.from, range.to), SummaryRow),
    ch.query(shadowReviewedQuery(range.from, range.to), ReviewedRow),
    ch.query(shadowDisagreementsQuery(range.from, range.to, limit), DisagreementRow),
  ]);
  const precision = (spam: number, ham: number) => (spam + ham > 0 ? spam / (spam + ham) : null);
  const models = summary.map((s): ShadowModelFigures => {
    const of = (label: string) => reviewed.find((r) => r.shadow_model === s.shadow_model && r.shadow_rules === s.shadow_rules && r.reviewed === label) ?? { n: 0, shadow_called: 0, live_called: 0 };
    const spam = of("spam");
    const ham = of("ham");
    return {
      shadowModelVersion: s.shadow_model,
      shadowRulesetVersion: s.shadow_rules,
      scored: s.scored,
      liveCalled: s.live_called,
      shadowCalled: s.shadow_called,
      shadowOnly: s.shadow_only,
      liveOnly: s.live_only,
      reviewed: { spam: spam.n, ham: ham.n, shadowCalledSpam: spam.shadow_called, shadowCalledHam: ham.shadow_called, liveCalledSpam: spam.live_called, liveCalledHam: ham.live_called },
      shadowPrecision: precision(spam.shadow_called, ham.shadow_called),
      livePrecision: precision(spam.live_called, ham.live_called),
    };
  });
  const disagreements = rows.map((r): ShadowDisagreement => ({
    messageId: r.mid,
    receivedAt: r.at * 1000,
    source: r.source,
    liveLabel: r.label,
    liveScore: r.score,
    shadowModelVersion: r.shadow_model,
    shadowRulesetVersion: r.shadow_rules,
    shadowLabel: r.shadow_label,
    shadowScore: r.shadow_p,
    reviewed: r.reviewed === "spam" || r.reviewed === "ham" ? r.reviewed : null,
  }));
  return { models, disagreements };
}
