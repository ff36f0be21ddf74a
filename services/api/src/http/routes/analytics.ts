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
import { ErrorResponse } from "../schemas.js";

export interface AnalyticsRoutesOptions {
  readonly traffic: TrafficAnalytics;
  readonly review: ReviewAnalytics;
  readonly slaHours: number;
}

const DAY = 86_400_000;
const CLICKHOUSE_DATETIME_END_MS = 2 ** 32 * 1_000;
/** Default window: the last 30 days; `to` is exclusive. */
export const RangeQuery = z
  .object({
    from: z.coerce.date().optional(),
    to: z.coerce.date().optional(),
  })
  .transform((q) => {
    const to = q.to ?? new Date(Date.now() + 60_000);
    const from = q.from ?? new Date(to.getTime() - 30 * DAY);
    return { from, to };
  })
  // ClickHouse DateTime is unsigned 32-bit seconds: a window outside it is a 400, not an encoder error (found by fuzz-http).
  .refine((r) => r.from.getTime() >= 0, { message: "from must not be before 1970-01-01", path: ["from"] })
  .refine((r) => r.to.getTime() < CLICKHOUSE_DATETIME_END_MS, { message: "to must be before 2106-02-07", path: ["to"] })
  .refine((r) => r.from < r.to, { message: "from must be before to", path: ["from"] })
  .refine((r) => r.to.getTime() - r.from.getTime() <= 400 * DAY, { message: "at most 400 days", path: ["to"] });

const Errors = { 400: ErrorResponse, 401: ErrorResponse, 403: ErrorResponse, 503: ErrorResponse };
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
        querystring: z.object({ bucket: Bucket.default("day"), from: z.string().optional(), to: z.string().optional() }),
        response: { 200: z.object({ points: z.array(VolumePoint) }), ...Errors },
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
      schema: { tags, summary: "Reports per day and the share verified", querystring: z.object({ from: z.string().optional(), to: z.string().optional() }), response: { 200: z.object({ points: z.array(ReportsPoint) }), ...Errors } },
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
          from: z.string().optional(),
          to: z.string().optional(),
        }),
        response: { 200: z.object({ items: z.array(TopItem) }), ...Errors },
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
      schema: { tags, summary: "Time from report to outcome reply (p50/p90) against the SLA", querystring: z.object({ from: z.string().optional(), to: z.string().optional() }), response: { 200: OutcomeStats, ...Errors } },
    },
    async (request) => review.reportOutcome(RangeQuery.parse(request.query), opts.slaHours),
  );

  app.get(
    "/api/analytics/rules",
    {
      config: { roles: VIEWERS },
      schema: { tags, summary: "Rule hit counts (traffic) and precision (review labels)", querystring: z.object({ from: z.string().optional(), to: z.string().optional() }), response: { 200: z.object({ items: z.array(RuleStat) }), ...Errors } },
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
      schema: { tags, summary: "Decisions per reviewer per day", querystring: z.object({ from: z.string().optional(), to: z.string().optional() }), response: { 200: z.object({ points: z.array(ThroughputPoint) }), ...Errors } },
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
        querystring: z.object({ from: z.string().optional(), to: z.string().optional() }),
        produces: ["text/csv"],
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
