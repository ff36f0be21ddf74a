import { randomUUID } from "node:crypto";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_SMPP_ACCOUNTS, demoSmppAccountsEnv, runDemoFeed } from "@spam/infra-local";
import { EsmeClient, SMPP_STATUS, SmppClientError } from "@spam/smpp-client";
import { freePort, startServiceProcess, type ServiceProcess } from "../support/index.js";

/**
 * `npm start`'s SMPP accounts (issue 17 finding 3, issue 19): one account per
 * role, passwords a standard SMPP 3.4 client can send, and the demo feed
 * sending each message through the account whose role it is.
 */
const brokers = process.env.KAFKA_BROKERS;

describe.skipIf(!brokers)("the local stack's demo SMPP accounts", () => {
  let gateway: ServiceProcess;
  let port: number;

  beforeAll(async () => {
    port = await freePort();
    gateway = startServiceProcess("gateway", {
      KAFKA_BROKERS: brokers!,
      TOPIC_PREFIX: `${process.env.TEST_RUN_ID ?? "local"}.sec_demo.${randomUUID().slice(0, 8)}.`,
      SMPP_PORT: String(port),
      SMPP_ACCOUNTS: demoSmppAccountsEnv(),
      METRICS_PORT: "0",
    });
    await gateway.waitForLog((e) => e.msg === "started", 90_000);
  }, 120_000);

  afterAll(async () => {
    expect(await gateway?.stop()).toBe(0);
  });

  it("fit SMPP 3.4: system_id at most 15 characters, password at most 8", () => {
    for (const a of Object.values(DEMO_SMPP_ACCOUNTS)) {
      expect(a.systemId.length).toBeLessThanOrEqual(15);
      expect(a.password.length).toBeLessThanOrEqual(8);
    }
  });

  it("the demo feed gets every message accepted through the account of its role", async () => {
    const result = await runDemoFeed({ host: "127.0.0.1", port, accounts: DEMO_SMPP_ACCOUNTS, reportNumber: "10086999", logger: pino({ level: "silent" }) });
    expect(result).toMatchObject({ accepted: result.sent, failed: 0 });
    expect(gateway.lines.some((l) => l.includes("SMPP refused"))).toBe(false);
  });

  it("the A2P demo account cannot send a report", async () => {
    const a2p = await EsmeClient.connect({ host: "127.0.0.1", port, ...DEMO_SMPP_ACCOUNTS.a2p, bindAs: "transmitter" });
    await expect(a2p.submit("13912345678*中奖", { source: "1069000", destination: "10086999" })).rejects.toEqual(
      new SmppClientError(SMPP_STATUS["ESME_RINVDSTADR"]!, "submit_sm failed with status 0xb"),
    );
    await a2p.close();
  });
});
