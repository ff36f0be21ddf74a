import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ident, sql, v } from "@spam/clickhouse";
import type { CaseEvent, DecisionEvent, RawMessage, Report, Verdict } from "@spam/contracts";
import { eventually, startDeciderStack, type DeciderStack, type TestStack } from "../support/index.js";

/**
 * Issue 17, finding 3, the decider's half: an SMPP account that can forge source
 * addresses sends a phishing text "from" a victim V to three numbers it holds, then
 * reports V from those numbers. The reports verify against that traffic, the classifier
 * calls the text spam, and three brand-new reporters weighed the 1.5 the policy needed,
 * with no brigading check below five reports: V was blocked for 168 h. The probe runs
 * against the decider and the sink as real processes on the real broker and ClickHouse.
 */
const VICTIM = "13611112222";
const FORGED_REPORTERS = ["13755550001", "13755550002", "13755550003"];
const letters = () => randomBytes(8).toString("base64url").replace(/[^A-Za-z]/g, "x");

describe("forged reports do not block a number (issue 17, finding 3)", () => {
  let d: DeciderStack;
  let stack: TestStack;
  let producer: DeciderStack["producer"];
  let events: DecisionEvent[];

  beforeAll(async () => {
    d = await startDeciderStack("sec_decider");
    ({ stack, producer, events } = d);
  }, 120_000);

  afterAll(async () => {
    const codes = await d?.stop();
    expect(codes).toEqual([0, 0]);
  });

  it("three brand-new reporters of verified phishing traffic open a flagged case; nothing is blocked and nobody is answered", async () => {
    const now = Date.now();
    const phishing = "【工商银行】您的账户存在异常，请立即登录 http://icbc-verify.example.top 验证身份，否则将冻结";
    const traffic: RawMessage[] = FORGED_REPORTERS.map((to) => ({
      v: 1, id: `tm-${letters()}`, receivedAt: now - 300_000, gatewayId: "gw", account: "forger", source: VICTIM, destination: to,
      text: phishing, dataCoding: 8, parts: 1, partial: false,
    }));
    // The scorer's view of the forged traffic: spam by a rule, sure of it.
    const verdicts: Verdict[] = traffic.map((m) => ({
      v: 1, id: `vd-${letters()}`, messageId: m.id, kind: "traffic", receivedAt: m.receivedAt, scoredAt: m.receivedAt + 5, source: m.source,
      destination: m.destination, score: 0.93, label: "spam", category: "FR_Phishing(Other)", action: "flag", campaignId: null,
      contributions: [{ source: "rule", id: "phishing.bank-verify", score: 0.8, category: "FR_Phishing(Other)", detail: null }],
      rulesetVersion: "r", modelVersion: "m", timingsUs: {},
    }));
    await producer.sendMany(traffic.map((m) => ({ topic: stack.topics.trafficRaw, key: m.source, value: m })));
    await producer.sendMany(verdicts.map((vd) => ({ topic: stack.topics.verdicts, key: vd.source, value: vd })));
    const Count = z.object({ n: z.coerce.number() });
    const rowsIn = async (table: string) => (await stack.ch.query(sql`SELECT count() AS n FROM ${ident(table)}`, Count))[0]?.n ?? 0;
    await eventually(async () => ((await rowsIn("verdicts_dedup")) >= 3 && (await rowsIn("traffic_raw_dedup")) >= 3) || undefined, 30_000, 200);

    const reports: Report[] = FORGED_REPORTERS.map((from, i) => ({
      v: 1, id: `R${letters().toUpperCase()}`, messageId: `rm-${letters()}`, receivedAt: now + i * 1000, gatewayId: "gw", shortCode: "10086999",
      reporterMsisdn: from, reporterHash: `h${letters()}`, reportedNumber: VICTIM, content: phishing, rawText: `${VICTIM}*${phishing}`,
      status: "parsed", parseError: null, allowListed: false,
    }));
    await producer.sendMany(reports.map((r) => ({ topic: stack.topics.reports, key: VICTIM, value: r })));

    const assessed = await eventually(async () => {
      const found = events.filter((e) => e.type === "report_assessed");
      return found.length >= 3 ? found : undefined;
    }, 30_000);
    // The forged reports do verify: the decider's defence is not verification.
    expect(assessed.map((e) => e.type === "report_assessed" && e.verification)).toEqual(["verified", "verified", "verified"]);
    const last = events.filter((e): e is CaseEvent => e.type === "case").at(-1)!;
    expect(last).toMatchObject({ subject: VICTIM, state: "open", decision: "pending", rule: "brigading_review" });
    expect(last.evidence).toMatchObject({ reportCount: 3, verifiedCount: 3, distinctVerifiedReporters: 3, brigadingSuspected: true });
    expect(events.filter((e) => e.type === "report_outcome")).toEqual([]);

    // Nothing reached the block list, and no outcome SMS went out (the sink stores both).
    await new Promise((r) => setTimeout(r, 1500));
    const Key = z.object({ n: z.coerce.number() });
    expect((await stack.ch.query(sql`SELECT count() AS n FROM blocklist_versions WHERE key = ${v.string(`sender:${VICTIM}`)}`, Key))[0]?.n).toBe(0);
    expect(await rowsIn("reply_log")).toBe(0);
  }, 120_000);
});
