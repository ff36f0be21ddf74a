import { sql, v, type ClickHouse } from "@spam/clickhouse";
import { z } from "zod";
import { maskText } from "@spam/privacy";

export const SenderTraffic = z.object({
  days: z.array(z.object({ day: z.string(), spam: z.number(), suspect: z.number(), ham: z.number(), commercial: z.number() })),
  messages: z.number(),
  recipients: z.number(),
  firstSeen: z.string().nullable(),
  lastSeen: z.string().nullable(),
  block: z.object({ state: z.string(), reason: z.string(), createdBy: z.string(), expiresAt: z.string().nullable() }).nullable(),
});
export type SenderTraffic = z.infer<typeof SenderTraffic>;

/** What a sender sent in the last 30 days and whether it is on the block list (ClickHouse). */
export interface SenderHistorySource {
  senderTraffic(sender: string): Promise<SenderTraffic | null>;
}

const num = z.coerce.number();

export class ClickHouseSenderHistory implements SenderHistorySource {
  constructor(private readonly ch: ClickHouse) {}

  async senderTraffic(sender: string): Promise<SenderTraffic> {
    const s = v.string(sender);
    const [rows, totals, blocks] = await Promise.all([
      this.ch.query(
        sql`SELECT toString(toDate(toTimeZone(received_at, 'Asia/Shanghai'))) AS day, label, uniqExact(id) AS n
              FROM verdicts WHERE source = ${s} AND kind = 'traffic' AND received_at >= now() - 30 * 86400
             GROUP BY day, label ORDER BY day`,
        z.object({ day: z.string(), label: z.string(), n: num }),
      ),
      this.ch.query(
        sql`SELECT uniqExact(id) AS messages, uniqExact(destination) AS recipients,
                   toString(min(received_at)) AS first_seen, toString(max(received_at)) AS last_seen
              FROM verdicts WHERE source = ${s} AND kind = 'traffic' AND received_at >= now() - 30 * 86400`,
        z.object({ messages: num, recipients: num, first_seen: z.string(), last_seen: z.string() }),
      ),
      this.ch.query(
        sql`SELECT state, reason, created_by, if(isNull(expires_at), '', toString(assumeNotNull(expires_at))) AS expires_at
              FROM blocklist_current WHERE key = ${v.string(`sender:${sender}`)}`,
        z.object({ state: z.string(), reason: z.string(), created_by: z.string(), expires_at: z.string() }),
      ),
    ]);
    const days = new Map<string, { day: string; spam: number; suspect: number; ham: number; commercial: number }>();
    for (const r of rows) {
      const d = days.get(r.day) ?? { day: r.day, spam: 0, suspect: 0, ham: 0, commercial: 0 };
      if (r.label === "spam" || r.label === "suspect" || r.label === "ham" || r.label === "commercial") d[r.label] += r.n;
      days.set(r.day, d);
    }
    const t = totals[0];
    const b = blocks[0];
    return {
      days: [...days.values()],
      messages: t?.messages ?? 0,
      recipients: t?.recipients ?? 0,
      firstSeen: t && t.messages > 0 ? t.first_seen : null,
      lastSeen: t && t.messages > 0 ? t.last_seen : null,
      // Block reasons are free text staff and the decider wrote: they may quote numbers.
      block: b ? { state: b.state, reason: maskText(b.reason), createdBy: maskText(b.created_by), expiresAt: b.expires_at || null } : null,
    };
  }
}
