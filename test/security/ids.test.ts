import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ident, sql } from "@spam/clickhouse";
import { CASE_ID_PATTERN, type DecisionEvent, type RawMessage, type Report, type Verdict } from "@spam/contracts";
import { eventually, startDeciderStack, type DeciderStack, type TestStack } from "../support/index.js";

/**
 * Issue 17, finding 1: case ids reached analysts with the sender's full number in them
 * (`case-sender-<number>-<ms>`): in the queue, the CSV and request logs. The probe: the
 * decider and the sink as real processes on the real broker and ClickHouse, reports that
 * open a case, block a sender and hit the block; no case id and no decision event id may
 * carry the sender's or a reporter's digits.
 */
const SENDER = "13912345678"; // blocked by the velocity rule on the first verified report
const OTHER = "13700001122"; // reported once without traffic: an open case
const REPORTERS = ["13800112233", "13800445566", "13800778899"];
const NUMBERS = [SENDER, OTHER, ...REPORTERS];
const letters = () => randomBytes(8).toString("base64url").replace(/[^A-Za-z]/g, "x");

/** True when the value carries any of the numbers, whole or its last eight digits. */
const carriesNumber = (value: string) => NUMBERS.some((n) => value.includes(n) || value.includes(n.slice(-8)));

describe("opaque identifiers (issue 17, finding 1)", () => {
  let d: DeciderStack;
  let stack: TestStack;
  let producer: DeciderStack["producer"];
  let events: DecisionEvent[];

  beforeAll(async () => {
    d = await startDeciderStack("sec_ids");
    ({ stack, producer, events } = d);
  }, 120_000);

  afterAll(async () => {
    const codes = await d?.stop();
    expect(codes).toEqual([0, 0]);
  });

  it("no case id, decision event id or stored case reference carries a number", async () => {
    const now = Date.now();
    const text = "【福利】恭喜您中奖10000元，点击 http://prize-sec.example.cn 领取";
    const traffic: RawMessage[] = REPORTERS.slice(0, 2).map((to) => ({
      v: 1, id: `tm-${letters()}`, receivedAt: now - 600_000, gatewayId: "gw", account: "net", source: SENDER, destination: to,
      text, dataCoding: 8, parts: 1, partial: false,
    }));
    const verdicts: Verdict[] = traffic.map((m) => ({
      v: 1, id: `vd-${letters()}`, messageId: m.id, kind: "traffic", receivedAt: m.receivedAt, scoredAt: m.receivedAt + 5, source: m.source,
      destination: m.destination, score: 0.97, label: "spam", category: "fraud", action: "block", campaignId: null,
      contributions: [{ source: "rule", id: "velocity.fanout", score: 0.9, category: "Other", detail: null }],
      rulesetVersion: "r", modelVersion: "m", timingsUs: {},
    }));
    await producer.sendMany(traffic.map((m) => ({ topic: stack.topics.trafficRaw, key: m.source, value: m })));
    await producer.sendMany(verdicts.map((v) => ({ topic: stack.topics.verdicts, key: v.source, value: v })));
    const Count = z.object({ n: z.coerce.number() });
    const rowsIn = async (table: "verdicts_dedup" | "traffic_raw_dedup") => (await stack.ch.query(sql`SELECT count() AS n FROM ${ident(table)}`, Count))[0]?.n ?? 0;
    await eventually(async () => ((await rowsIn("verdicts_dedup")) >= 2 && (await rowsIn("traffic_raw_dedup")) >= 2) || undefined, 30_000, 200);

    const report = (from: string, reported: string, receivedAt: number): Report => ({
      v: 1, id: `R${letters().toUpperCase()}`, messageId: `rm-${letters()}`, receivedAt, gatewayId: "gw", shortCode: "10086999", reporterMsisdn: from,
      reporterHash: `h${letters()}`, reportedNumber: reported, content: text, rawText: `${reported}*${text}`, status: "parsed", parseError: null, allowListed: false,
    });
    // The first report blocks; the second finds the sender blocked; the third opens a case of its own.
    await producer.send({ topic: stack.topics.reports, key: SENDER, value: report(REPORTERS[0]!, SENDER, now) });
    await eventually(async () => events.some((e) => e.type === "case" && e.decision === "blocked") || undefined, 30_000).catch((err: unknown) => {
      throw new Error(`${String(err)}; events: ${JSON.stringify(events)}`);
    });
    await producer.send({ topic: stack.topics.reports, key: SENDER, value: report(REPORTERS[1]!, SENDER, now + 1000) });
    await producer.send({ topic: stack.topics.reports, key: OTHER, value: report(REPORTERS[2]!, OTHER, now + 2000) });
    await eventually(async () => (events.filter((e) => e.type === "report_outcome").length >= 2 && events.some((e) => e.type === "case" && e.subject === OTHER)) || undefined, 30_000);

    const caseIds = new Set<string>();
    for (const e of events) {
      expect(carriesNumber(e.id), `event id ${e.id}`).toBe(false);
      if ((e.type === "case" || e.type === "report_outcome" || e.type === "report_assessed") && e.caseId !== null) caseIds.add(e.caseId);
    }
    expect(caseIds.size).toBe(2);
    for (const id of caseIds) expect(id).toMatch(CASE_ID_PATTERN);

    // What the console and the exports read: the stored case references.
    const Ids = z.object({ id: z.string() });
    const references = await eventually(async () => {
      const rows = [
        ...(await stack.ch.query(sql`SELECT case_id AS id FROM cases_current`, Ids)),
        ...(await stack.ch.query(sql`SELECT case_id AS id FROM report_outcomes_dedup`, Ids)),
        ...(await stack.ch.query(sql`SELECT assumeNotNull(case_id) AS id FROM report_assessments_dedup WHERE isNotNull(case_id)`, Ids)),
      ];
      // Two cases; two outcomes; the assessments of the two reports that joined a case (the second found the block).
      return rows.length >= 2 + 2 + 2 ? rows : undefined;
    }, 30_000, 200);
    for (const r of references) expect(r.id).toMatch(CASE_ID_PATTERN);
  }, 120_000);
});
