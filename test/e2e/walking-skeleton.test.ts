import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { sql, v } from "@spam/clickhouse";
import { EsmeClient } from "@spam/smpp-client";
import { createTestStack, eventually, freePort, startServiceProcess, type ServiceProcess, type TestStack } from "../support/index.js";

/**
 * The walking skeleton, for real: an SMPP submit_sm to the gateway lands on
 * Kafka, the scorer publishes a verdict, the sink writes it to ClickHouse.
 * Real broker, real server, real service processes.
 */
const VerdictRow = z.object({ message_id: z.string(), label: z.string(), category: z.string().nullable(), rule_ids: z.array(z.string()), score: z.number() });

describe("walking skeleton: SMPP → Kafka → scorer → sink → ClickHouse", () => {
  let stack: TestStack;
  let services: ServiceProcess[] = [];
  let smppPort: number;

  beforeAll(async () => {
    stack = await createTestStack("e2e_skeleton");
    smppPort = await freePort();
    const gateway = startServiceProcess("gateway", {
      ...stack.serviceEnv,
      GATEWAY_ID: "gw-e2e",
      SMPP_PORT: String(smppPort),
      SMPP_ACCOUNTS: "e2e:e2e-pw:traffic:*",
      METRICS_PORT: "0",
    });
    const scorer = startServiceProcess("scorer", { ...stack.serviceEnv, CONSUMER_GROUP: `${stack.prefix}scorer`, METRICS_PORT: "0" });
    const sink = startServiceProcess("sink", { ...stack.serviceEnv, CONSUMER_GROUP: `${stack.prefix}sink`, SINK_FETCH_MAX_WAIT_MS: "100", METRICS_PORT: "0" });
    services = [gateway, scorer, sink];
    await Promise.all(services.map((s) => s.waitForLog((e) => e.msg === "started", 60_000)));
  });

  afterAll(async () => {
    const codes = await Promise.all(services.map((s) => s.stop()));
    await stack?.dispose();
    // Every service drains and exits 0 on SIGTERM.
    expect(codes).toEqual(services.map(() => 0));
  });

  it("scores a spam and a ham message sent over SMPP and stores both verdicts", async () => {
    const client = await EsmeClient.connect({ host: "127.0.0.1", port: smppPort, systemId: "e2e", password: "e2e-pw" });
    const spam = await client.submit("代开各类发票，增值税专用发票保真，联系V信 fp2026", { source: "17000009999", destination: "13900000001" });
    const ham = await client.submit("今晚七点在老地方吃饭，记得带伞", { source: "13800000002", destination: "13900000002" });
    await client.close();
    const spamId = spam.messageIds[0]!;
    const hamId = ham.messageIds[0]!;
    expect(spamId).not.toBe("");

    const rows = await eventually(async () => {
      const found = await stack.ch.query(
        sql`SELECT message_id, label, category, rule_ids, score FROM verdicts FINAL WHERE message_id IN (${v.string(spamId)}, ${v.string(hamId)})`,
        VerdictRow,
      );
      return found.length === 2 ? found : undefined;
    }, 20_000);
    const spamRow = rows.find((r) => r.message_id === spamId)!;
    const hamRow = rows.find((r) => r.message_id === hamId)!;
    expect(spamRow.label).toBe("spam");
    expect(spamRow.rule_ids.length).toBeGreaterThan(0);
    expect(hamRow.label).toBe("ham");
    expect(hamRow.score).toBeLessThan(spamRow.score);
  });

  it("refuses a bind with a wrong password", async () => {
    await expect(EsmeClient.connect({ host: "127.0.0.1", port: smppPort, systemId: "e2e", password: "wrong" })).rejects.toMatchObject({
      commandStatus: 0x0d, // ESME_RBINDFAIL
    });
  });
});
