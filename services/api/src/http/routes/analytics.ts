import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { audit } from "../../audit.js";
import {
  Bucket,
  OutcomeStats,
  ReportsPoint,
  RuleStat,
  ThroughputPoint,
  TopItem,
  VolumePoint,
  ruleStats,
  type ReviewAnalytics,
  type TrafficAnalytics,
} from "../../analytics/types.js";
import { fraudCsv } from "../../analytics/csv.js";
import { POLICY, maskNumber, maskText } from "@spam/privacy";
import { requireUser } from "../auth.js";
import { DateTimeParam, ROLE_LIMITED, WITH_INPUT, errorResponses } from "../schemas.js";

export interface AnalyticsRoutesOptions {
  readonly traffic: TrafficAnalytics;
  readonly review: ReviewAnalytics;
  readonly slaHours: number;
}

const DAY = 86_400_000;
const MAX_WINDOW_DAYS = 400;
/** ClickHouse DateTime is unsigned 32-bit seconds. */
const CLICKHOUSE_DATETIME_END_MS = 2 ** 32 * 1_000 - 1_000;
const clampMs = (ms: number) => Math.min(Math.max(ms, 0), CLICKHOUSE_DATETIME_END_MS);

/**
 * The window of an analytics query, `to` exclusive; default the last 30 days. Any two date-times the document
 * allows are answered: the window is cut to what ClickHouse DateTime holds (1970 to 2106) and to the 400 days
 * ending at `to`, and a window whose `from` is not before `to` is empty.
 */
export const RangeQuery = z
  .object({
    from: DateTimeParam.optional(),
    to: DateTimeParam.optional(),
  })
  .transform((q) => {
    const to = clampMs(q.to !== undefined ? Date.parse(q.to) : Date.now() + 60_000);
    const from = clampMs(Math.max(q.from !== undefined ? Date.parse(q.from) : to - 30 * DAY, to - MAX_WINDOW_DAYS * DAY));
    return { from: new Date(Math.min(from, to)), to: new Date(to) };
  });
type Range = z.output<typeof RangeQuery>;

const RANGE_DESCRIPTION = `\`from\`/\`to\` (RFC 3339 date-time, \`to\` exclusive) default to the last 30 days; a longer window is cut to the ${MAX_WINDOW_DAYS} days ending at \`to\`, and one whose \`from\` is not before \`to\` is empty.`;
const Range = { from: DateTimeParam.optional(), to: DateTimeParam.optional() };
const ERRORS = errorResponses(...ROLE_LIMITED, ...WITH_INPUT);
const VIEWERS = ["analyst", "admin", "reviewer"] as const;

export const analyticsRoutes: FastifyPluginAsyncZod<AnalyticsRoutesOptions> = async (app, opts) => {
  const { traffic, review } = opts;
  const tags = ["analytics"];

  app.get(
    "/api/analytics/spam-volume",
    {
      config: { roles: VIEWERS },
      schema: {
        tags,
        summary: "Spam verdicts over time by category and action",
        description: RANGE_DESCRIPTION,
        querystring: z.object({ bucket: Bucket.default("day"), ...Range }),
        response: { 200: z.object({ points: z.array(VolumePoint) }), ...ERRORS },
      },
    },
    async (request) => {
      const range = RangeQuery.parse(request.query);
      return { points: await traffic.spamVolume(range, request.query.bucket) };
    },
  );

  app.get(
    "/api/analytics/reports",
    {
      config: { roles: VIEWERS },
      schema: { tags, summary: "Reports per day and the share verified", description: RANGE_DESCRIPTION, querystring: z.object(Range), response: { 200: z.object({ points: z.array(ReportsPoint) }), ...ERRORS } },
    },
    async (request) => ({ points: await review.reportsPerDay(RangeQuery.parse(request.query)) }),
  );

  app.get(
    "/api/analytics/top-reported",
    {
      config: { roles: VIEWERS },
      schema: {
        tags,
        summary: "Most reported senders, URL domains or campaigns (senders masked)",
        querystring: z.object({
          kind: z.enum(["sender", "domain", "campaign"]).default("sender"),
          limit: z.coerce.number().int().min(1).max(100).default(10),
          ...Range,
        }),
        description: RANGE_DESCRIPTION,
        response: { 200: z.object({ items: z.array(TopItem) }), ...ERRORS },
      },
    },
    async (request) => {
      const { kind, limit } = request.query;
      const items = await review.topReported(kind, RangeQuery.parse(request.query), limit);
      // Senders are numbers; domains and campaign ids come from message text and may hold one too.
      return { items: items.map((i) => ({ ...i, key: kind === "sender" ? maskNumber(i.key) : maskText(i.key) })) };
    },
  );

  app.get(
    "/api/analytics/report-outcome",
    {
      config: { roles: VIEWERS },
      schema: { tags, summary: "Time from report to outcome reply (p50/p90) against the SLA", description: RANGE_DESCRIPTION, querystring: z.object(Range), response: { 200: OutcomeStats, ...ERRORS } },
    },
    async (request) => review.reportOutcome(RangeQuery.parse(request.query), opts.slaHours),
  );

  app.get(
    "/api/analytics/rules",
    {
      config: { roles: VIEWERS },
      schema: { tags, summary: "Rule hit counts (traffic) and precision (review labels)", description: RANGE_DESCRIPTION, querystring: z.object(Range), response: { 200: z.object({ items: z.array(RuleStat) }), ...ERRORS } },
    },
    async (request) => {
      const range = RangeQuery.parse(request.query);
      const [hits, labels] = await Promise.all([traffic.ruleHits(range), review.ruleLabels(range)]);
      return { items: ruleStats(hits, labels) };
    },
  );

  app.get(
    "/api/analytics/throughput",
    {
      config: { roles: VIEWERS },
      schema: { tags, summary: "Decisions per reviewer per day", description: RANGE_DESCRIPTION, querystring: z.object(Range), response: { 200: z.object({ points: z.array(ThroughputPoint) }), ...ERRORS } },
    },
    async (request) => ({ points: await review.reviewerThroughput(RangeQuery.parse(request.query)) }),
  );

  app.get(
    "/api/export/fraud-cases.csv",
    {
      config: { roles: ["analyst", "admin"] },
      schema: {
        tags,
        summary: "CSV of confirmed fraud (decisions with an FR_* category) for the regulator (12321); full numbers for admins, masked for analysts",
        description: RANGE_DESCRIPTION,
        querystring: z.object(Range),
        response: { 200: { description: "CSV, UTF-8, one row per confirmed fraud decision", content: { "text/csv": { schema: { type: "string" } } } }, ...ERRORS },
      },
    },
    async (request, reply) => {
      const user = requireUser(request);
      const range = RangeQuery.parse(request.query);
      const rows = await review.confirmedFraud(range, 100_000);
      const full = POLICY[user.role].export === "clear";
      await audit(app.pg, user, "export_csv", "fraud-cases", "", { rows: rows.length, full, from: range.from, to: range.to });
      void reply
        .header("content-type", "text/csv; charset=utf-8")
        .header("content-disposition", `attachment; filename="fraud-cases-${range.from.toISOString().slice(0, 10)}.csv"`);
      return fraudCsv(rows, user.role);
    },
  );
};
