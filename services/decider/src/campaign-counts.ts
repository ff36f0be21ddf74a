import type { Logger } from "pino";
import { z } from "zod";
import { join, sql, v, type ClickHouse, type SqlFragment, type SqlQuery } from "@spam/clickhouse";
import type { CampaignCounts } from "@spam/contracts";
import type { OutgoingMessage } from "@spam/kafka";

/**
 * The campaign feedback loop. Scoring workers each count only their own partitions' share of a campaign
 * (traffic is keyed by sender), while ClickHouse aggregates every verdict by campaign id. This job reads
 * the exact counts of the active campaigns and publishes those that changed to a compacted topic keyed by
 * campaign id (tombstones for campaigns that left the window); every scoring worker follows it for its
 * campaign boosts. Nothing per message: the cost is per tick and grows with the active campaigns.
 *
 * Two cadences, so a tick does not re-aggregate the whole window:
 * - fast tick (every few seconds): campaigns with at least `minSenders` senders (or a report) among the
 *   verdicts of the last few seconds, a range read on the verdicts' sorting key; for those only, the
 *   distinct senders and reports (small sets) from the aggregates. Messages and recipients (sets as large
 *   as the campaign) are counted only for campaigns not published yet, and otherwise by the sweep.
 * - sweep (every minute or so): every campaign with at least `minSenders` senders (or a report) within the
 *   window, all four counts; campaigns published before and no longer active are tombstoned.
 */

export interface CampaignWindow {
  /** Active = at least `minSenders` distinct senders (or a report) among verdicts received in the last windowMs. */
  readonly windowMs: number;
  /** No boost needs fewer; leaves out the single-sender texts (most ham) that every message would otherwise add. */
  readonly minSenders: number;
  /** At most this many campaigns are published (most senders, then most reports, first). */
  readonly maxCampaigns: number;
}

/** Which campaigns a query counts: those discovered in verdicts received since `from`, or the given ids. */
export type CampaignScope = { readonly from: number } | { readonly keys: readonly string[] };

/** Campaigns with enough senders (or a report) among the verdicts received since `from`. */
function discovered(from: number, minSenders: number): SqlFragment {
  // uniq: an approximate filter is enough to find candidates; their counts are exact below.
  return sql`
        SELECT assumeNotNull(campaign_id) AS discovered_key
        FROM verdicts
        WHERE received_at >= ${v.dateTime(from)} AND isNotNull(campaign_id)
        GROUP BY campaign_id
        HAVING uniqIf(source, kind = 'traffic') >= ${v.uint32(minSenders)} OR countIf(kind = 'report') > 0`;
}

function scopeFilter(scope: CampaignScope, minSenders: number): SqlFragment {
  if ("from" in scope) return sql`campaign_key IN (${discovered(scope.from, minSenders)})`;
  return sql`campaign_key IN (${join(scope.keys.length > 0 ? scope.keys.map(v.string) : [v.string("")], ", ")})`;
}

/**
 * Exact counts over the hours the window overlaps (the aggregates are hourly): traffic from the uniqExact
 * states of `campaign_stats_agg`, reports from `campaign_reports_agg`; a redelivered verdict counts once.
 * `full` = false leaves out messages and recipients (0), whose states are as large as the campaign.
 * Aliases differ from column names on purpose (ClickHouse substitutes aliases inside expressions).
 * Runs on 18.16 and current ClickHouse: values through the encoder, ANY LEFT JOIN … USING, and
 * the joined subqueries named (current ClickHouse refuses them unnamed: joined_subquery_requires_alias).
 */
export function campaignCountsQuery(now: number, w: CampaignWindow, scope: CampaignScope, full: boolean): SqlQuery {
  const cutoff = Math.max(0, now - w.windowMs);
  const hours = sql`hour >= toStartOfHour(${v.dateTime(cutoff)})`;
  const filter = scopeFilter(scope, w.minSenders);
  const sizes = full
    ? sql`uniqExactMerge(message_ids) AS n_messages, uniqExactMerge(recipients) AS n_recipients`
    : sql`toUInt64(0) AS n_messages, toUInt64(0) AS n_recipients`;
  return sql`
    SELECT campaign_key, n_messages, n_senders, n_recipients, n_reports, first_seen_s, last_seen_s,
        toUInt32(toStartOfHour(${v.dateTime(cutoff)})) AS since_s
    FROM
    (
        SELECT campaign_key, ${sizes},
            uniqExactMerge(senders) AS n_senders,
            toUInt32(minMerge(first_seen)) AS first_seen_s,
            toUInt32(maxMerge(last_seen)) AS last_seen_s
        FROM campaign_stats_agg
        WHERE ${hours} AND ${filter}
        GROUP BY campaign_key
    ) AS stats
    ANY LEFT JOIN
    (
        SELECT campaign_key, uniqExactMerge(reports) AS n_reports
        FROM campaign_reports_agg
        WHERE ${hours}
        GROUP BY campaign_key
    ) AS reports USING campaign_key
    WHERE last_seen_s >= ${v.uint32(Math.floor(cutoff / 1000))} AND (n_senders >= ${v.uint32(w.minSenders)} OR n_reports >= 1)
    ORDER BY n_senders DESC, n_reports DESC, campaign_key
    LIMIT ${v.uint32(w.maxCampaigns)}`;
}

const count = z.coerce.number().int().nonnegative();
const CampaignCountsRow = z.object({
  campaign_key: z.string().min(1).max(64),
  n_messages: count,
  n_senders: count,
  n_recipients: count,
  n_reports: count,
  first_seen_s: count,
  last_seen_s: count,
  since_s: count,
});

/** The counts as records to publish (with `full` false, messages and recipients are 0 and `sizedAt` is 0). */
export async function queryCampaignCounts(ch: ClickHouse, now: number, w: CampaignWindow, scope: CampaignScope, full: boolean): Promise<CampaignCounts[]> {
  if ("keys" in scope && scope.keys.length === 0) return [];
  const rows = await ch.query(campaignCountsQuery(now, w, scope, full), CampaignCountsRow);
  return rows.map((r) => ({
    v: 1,
    campaignId: r.campaign_key,
    messages: r.n_messages,
    senders: r.n_senders,
    recipients: r.n_recipients,
    reports: r.n_reports,
    firstSeen: r.first_seen_s * 1000,
    lastSeen: r.last_seen_s * 1000,
    since: r.since_s * 1000,
    computedAt: now,
    sizedAt: full ? now : 0,
  }));
}

/** What the publisher needs from ClickHouse (a fake in unit tests). */
export interface CampaignCountsSource {
  /** Senders and reports (messages, recipients 0) of the campaigns discovered since `from`. */
  boost(now: number, from: number): Promise<CampaignCounts[]>;
  /** All four counts of the campaigns in scope. */
  full(now: number, scope: CampaignScope): Promise<CampaignCounts[]>;
}

export function clickHouseCampaignCounts(ch: ClickHouse, w: CampaignWindow): CampaignCountsSource {
  return {
    boost: (now, from) => queryCampaignCounts(ch, now, w, { from }, false),
    full: (now, scope) => queryCampaignCounts(ch, now, w, scope, true),
  };
}

export interface CampaignCountsPublisherOptions {
  readonly topic: string;
  readonly source: CampaignCountsSource;
  /** Resolves when the broker acknowledged every message. */
  readonly send: (messages: OutgoingMessage[]) => Promise<void>;
  readonly windowMs: number;
  readonly maxCampaigns: number;
  /** How far back a fast tick looks for active campaigns: the tick interval plus the sink's delay. */
  readonly recentMs: number;
  readonly logger: Logger;
  readonly now?: () => number;
  /** Called when a tick fails (query or send); the next tick retries. */
  readonly onError?: (err: unknown) => void;
}

export interface TickResult {
  readonly kind: "fast" | "sweep";
  readonly counted: number;
  readonly published: number;
  readonly tombstoned: number;
}

/** Campaigns whose full counts a fast tick computes at most (literal id lists stay well inside max_query_size). */
const MAX_NEW_PER_TICK = 1_000;

const sameBoostCounts = (a: CampaignCounts, b: CampaignCounts) => a.senders === b.senders && a.reports === b.reports;
const sameCounts = (a: CampaignCounts, b: CampaignCounts) => sameBoostCounts(a, b) && a.messages === b.messages && a.recipients === b.recipients;

/** Publishes changed campaign counts and tombstones; remembers what the topic holds. */
export class CampaignCountsPublisher {
  /** What the compacted topic holds per campaign (read back at start, then what we published). */
  private readonly published = new Map<string, CampaignCounts>();
  private readonly now: () => number;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private stopped = false;
  private lastSweepAt = -Infinity;

  constructor(private readonly options: CampaignCountsPublisherOptions) {
    this.now = options.now ?? Date.now;
  }

  /** A record already on the topic (read back before the first tick), so a restart publishes only changes. */
  load(campaignId: string, value: CampaignCounts | null): void {
    if (value === null) this.published.delete(campaignId);
    else this.published.set(campaignId, value);
  }

  /** Campaigns the topic currently holds a value for. */
  get size(): number {
    return this.published.size;
  }

  /** Fast tick: refresh the senders and reports of the campaigns active in the last few seconds. */
  async tick(): Promise<TickResult> {
    const now = this.now();
    const { source, topic } = this.options;
    const boost = await source.boost(now, now - this.options.recentMs);
    const room = Math.max(0, this.options.maxCampaigns - this.published.size);
    const fresh = boost.filter((c) => !this.published.has(c.campaignId)).slice(0, Math.min(room, MAX_NEW_PER_TICK));
    const sized = new Map((await source.full(now, { keys: fresh.map((c) => c.campaignId) })).map((c) => [c.campaignId, c]));
    const out: OutgoingMessage[] = [];
    for (const c of boost) {
      const before = this.published.get(c.campaignId);
      if (before) {
        // Messages and recipients stay as the last full count had them (sizedAt).
        if (!sameBoostCounts(before, c)) out.push({ topic, key: c.campaignId, value: { ...c, messages: before.messages, recipients: before.recipients, sizedAt: before.sizedAt } });
      } else {
        const full = sized.get(c.campaignId);
        if (full) out.push({ topic, key: c.campaignId, value: full });
      }
    }
    await this.publish(out);
    return { kind: "fast", counted: boost.length, published: out.length, tombstoned: 0 };
  }

  /** Sweep: all counts of every active campaign; tombstones for the campaigns no longer active. */
  async sweep(): Promise<TickResult> {
    const now = this.now();
    const { topic } = this.options;
    const active = await this.options.source.full(now, { from: now - this.options.windowMs });
    const out: OutgoingMessage[] = [];
    const seen = new Set<string>();
    for (const c of active) {
      seen.add(c.campaignId);
      const before = this.published.get(c.campaignId);
      if (before === undefined || !sameCounts(before, c)) out.push({ topic, key: c.campaignId, value: c });
    }
    const changed = out.length;
    // Out of the window (or below the filters, or beyond the bound): followers forget it, compaction drops it.
    for (const id of this.published.keys()) if (!seen.has(id)) out.push({ topic, key: id, value: null });
    await this.publish(out);
    this.lastSweepAt = now;
    return { kind: "sweep", counted: active.length, published: changed, tombstoned: out.length - changed };
  }

  private async publish(out: OutgoingMessage[]): Promise<void> {
    if (out.length === 0) return;
    await this.options.send(out);
    // Only after the broker's ack: a failed send is redone by a later tick.
    for (const m of out) {
      if (m.value === null) this.published.delete(m.key!);
      else this.published.set(m.key!, m.value as CampaignCounts);
    }
    this.options.logger.debug({ records: out.length }, "campaign counts published");
  }

  /**
   * Fast ticks every `intervalMs` (from the end of the previous one, so ticks never overlap) and a sweep
   * instead once `sweepMs` have passed since the last successful one (the first tick is a sweep).
   */
  start(intervalMs: number, sweepMs: number): void {
    this.stopped = false;
    const loop = () => {
      const sweep = this.now() - this.lastSweepAt >= sweepMs;
      this.running = (sweep ? this.sweep() : this.tick())
        .then(() => undefined)
        .catch((err: unknown) => {
          this.options.logger.warn({ err, sweep }, "campaign counts tick failed; retrying next tick");
          this.options.onError?.(err);
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(loop, intervalMs);
        });
    };
    loop();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }
}
