import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { sql, v, type ClickHouse } from "@spam/clickhouse";
import { DELIVERY_OUTCOMES, DELIVERY_REASONS } from "@spam/contracts";
import { DateTimeParam, ROLE_LIMITED, WITH_INPUT, errorResponses } from "../schemas.js";
import { RangeQuery } from "./analytics.js";

/** Relay mode: how many messages the gateway forwarded, stopped or deferred, and why (no numbers, no texts). */
export const DeliveryCount = z.object({
  outcome: z.enum(DELIVERY_OUTCOMES),
  reason: z.enum(DELIVERY_REASONS),
  messages: z.number().int().nonnegative(),
});
export type DeliveryCount = z.infer<typeof DeliveryCount>;

export interface DeliveryCounts {
  counts(range: { from: Date; to: Date }): Promise<DeliveryCount[]>;
}

const Row = z.object({ outcome: z.string(), reason: z.string(), messages: z.coerce.number() });

/** From `delivery_records` (migration 0006); a redelivered record counts once (uniqExact of ids). */
export class ClickHouseDeliveryCounts implements DeliveryCounts {
  constructor(private readonly ch: ClickHouse) {}

  async counts(range: { from: Date; to: Date }): Promise<DeliveryCount[]> {
    const rows = await this.ch.query(
      sql`SELECT outcome, reason, uniqExact(id) AS messages FROM delivery_records
           WHERE at >= ${v.dateTime(range.from)} AND at < ${v.dateTime(range.to)}
           GROUP BY outcome, reason ORDER BY outcome, reason`,
      Row,
    );
    // Values this API does not know (a newer gateway) are left out rather than failing the page.
    return rows.flatMap((r) => {
      const parsed = DeliveryCount.safeParse(r);
      return parsed.success ? [parsed.data] : [];
    });
  }
}

export const emptyDeliveryCounts: DeliveryCounts = { counts: async () => [] };

const Errors = errorResponses(...ROLE_LIMITED, ...WITH_INPUT, 503);

export const deliveryRoutes: FastifyPluginAsyncZod<{ readonly counts: DeliveryCounts }> = async (app, opts) => {
  app.get(
    "/api/delivery/summary",
    {
      config: { roles: ["analyst", "admin", "reviewer"] },
      schema: {
        tags: ["analytics"],
        summary: "Relay mode: messages forwarded, stopped and deferred by the gateway, by reason",
        querystring: z.object({ from: DateTimeParam.optional(), to: DateTimeParam.optional() }),
        response: {
          200: z.object({ delivered: z.number().int(), stopped: z.number().int(), deferred: z.number().int(), failOpen: z.number().int(), counts: z.array(DeliveryCount) }),
          ...Errors,
        },
      },
    },
    async (request) => {
      const counts = await opts.counts.counts(RangeQuery.parse(request.query));
      const sum = (f: (c: DeliveryCount) => boolean) => counts.filter(f).reduce((a, c) => a + c.messages, 0);
      return {
        delivered: sum((c) => c.outcome === "forwarded"),
        stopped: sum((c) => c.outcome === "stopped"),
        deferred: sum((c) => c.outcome === "deferred"),
        failOpen: sum((c) => c.outcome === "forwarded" && c.reason === "deadline_open"),
        counts,
      };
    },
  );
};
