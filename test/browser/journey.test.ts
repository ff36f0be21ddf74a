import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { sql, v } from "@spam/clickhouse";
import { DEMO_SMPP_ACCOUNTS } from "@spam/infra-local";
import { createApiUser, eventually, startPipeline, type Pipeline } from "../support/index.js";
import { StandardEsme } from "../e2e/journey-client.js";
import { launchChromium } from "./chromium.js";

/**
 * Issue 19's journey with the reviewer in Chromium: a campaign from three senders, its subscribers report it
 * (one report fabricated, one in two steps), the reviewer decides the campaign in the console, and every
 * reporter hears the outcome that is true of their report; the settled sender case says why it closed, in
 * the reviewer's language. Every service is a real process.
 */
const SHORT_CODE = "10086999";
const REVIEWER = { username: "journey-browser", password: "journey-browser-pass-1" };
const A = "17512340011";
const B = "17612340022";
const C = "17712340033";
const CAMPAIGN = "【速递】您的包裹因地址不详被退回，请点击 http://parcel-refund.top 登记理赔";
const R = { a1: "13901031001", aFake: "13901031002", b: "13901031003", c: "13901031004" };
const REPORT_ID = /您的举报已受理，编号(R[0-9A-Z]+)/;

describe("the journey of issue 19 in the console", () => {
  let pipeline: Pipeline;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let db: pg.Pool;
  const clients: StandardEsme[] = [];

  beforeAll(async () => {
    pipeline = await startPipeline("browser_journey", {
      reporterHashKey: "browser-journey-reporter-hash-key-0123456789",
      scorerEnv: { SUSPECT_THRESHOLD: "0.5", SPAM_THRESHOLD: "0.95" },
      before: (_s, p) => createApiUser(p.url, REVIEWER.username, "reviewer", REVIEWER.password),
    });
    db = new pg.Pool({ connectionString: pipeline.pgdb.url, max: 2 });
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await Promise.allSettled(clients.map((c) => c.close()));
    await db?.end();
    const codes = await pipeline?.stop();
    expect(codes).toEqual([0, 0, 0, 0, 0]);
  });

  it("a campaign decided in the console settles its senders' cases and every reporter hears the truth", async () => {
    const bind = async (account: { systemId: string; password: string }, mode: "transceiver" | "receiver") => {
      const c = await StandardEsme.bind({ host: "127.0.0.1", port: pipeline.smppPort, ...account, mode });
      clients.push(c);
      return c;
    };
    const mo = await bind(DEMO_SMPP_ACCOUNTS.mo, "transceiver");
    const replies = await bind(DEMO_SMPP_ACCOUNTS.replies, "receiver");
    const reply = (msisdn: string, match: RegExp) =>
      eventually(async () => replies.deliveredTo(msisdn).map((t) => match.exec(t)).find((m) => m !== null) ?? undefined, 45_000, 100);

    for (const [from, to] of [[A, R.a1], [B, R.b], [C, R.c]] as const) await mo.submit(CAMPAIGN, { source: from, destination: to });
    const campaignId = await eventually(async () => {
      const rows = await pipeline.stack.ch.query(
        sql`SELECT campaign_id FROM verdicts FINAL WHERE source IN (${v.string(A)}, ${v.string(B)}, ${v.string(C)})`,
        z.object({ campaign_id: z.string().nullable() }),
      );
      return rows.length === 3 && rows[0]!.campaign_id ? rows[0]!.campaign_id : undefined;
    }, 45_000, 200);

    await mo.submit(`${A}*${CAMPAIGN}`, { source: R.a1, destination: SHORT_CODE });
    const a1 = (await reply(R.a1, REPORT_ID))[1]!;
    await mo.submit(`举报 ${A.slice(0, 3)} ${A.slice(3, 7)} ${A.slice(7)}＊${CAMPAIGN}`, { source: R.aFake, destination: SHORT_CODE });
    const aFake = (await reply(R.aFake, REPORT_ID))[1]!;
    await mo.submit(CAMPAIGN, { source: R.b, destination: SHORT_CODE });
    await reply(R.b, /请在\d+分钟内回复被举报的号码/);
    await mo.submit(B, { source: R.b, destination: SHORT_CODE });
    const b = (await reply(R.b, REPORT_ID))[1]!;

    const page = await browser.context.newPage();
    await page.goto(`${pipeline.apiUrl}/login`);
    await page.fill("#username", REVIEWER.username);
    await page.fill("#password", REVIEWER.password);
    await page.click("#login-submit");
    await page.waitForSelector("[data-testid=whoami]:not(:empty)");
    type Summary = { id: string; subjectKind: string; campaignId: string | null; reports: number; sender: string };
    const queue = () => page.evaluate(async () => ((await (await fetch("/api/queue?limit=200")).json()) as { items: Summary[] }).items);
    let seen: unknown = null;
    const ready = await eventually(async () => {
      const items = await queue();
      seen = items;
      const cmp = items.filter((s) => s.subjectKind === "campaign" && s.campaignId === campaignId);
      const a = items.filter((s) => s.subjectKind === "sender" && s.sender.startsWith("175"));
      const bb = items.filter((s) => s.subjectKind === "sender" && s.sender.startsWith("176"));
      return cmp.length === 1 && a[0]?.reports === 2 && bb[0]?.reports === 1 ? { cmp: cmp[0]!, a, b: bb } : undefined;
    }, 60_000, 300).catch((e: unknown) => {
      throw new Error(`${String(e)}; the queue: ${JSON.stringify(seen)}`);
    });
    // One case per subject in the queue the reviewer sees.
    expect(ready.a).toHaveLength(1);
    expect(ready.b).toHaveLength(1);

    // The reviewer opens the campaign, claims it and decides it spam with the keyboard.
    await page.goto(`${pipeline.apiUrl}/case/${encodeURIComponent(ready.cmp.id)}`);
    await page.click("[data-testid=claim]");
    await page.waitForSelector("[data-testid=decide-spam]:not([disabled])");
    await page.keyboard.press("1");
    await page.keyboard.press("/");
    await page.keyboard.type("包裹理赔诈骗群发");
    await page.keyboard.press("Escape");
    await page.keyboard.press("s");
    await eventually(async () => {
      const { rows } = await db.query("SELECT status FROM review_cases WHERE id = $1", [ready.cmp.id]);
      return rows[0]?.status === "decided" ? true : undefined;
    }, 20_000, 200);

    // Every reporter hears the outcome true of their own report.
    await reply(R.a1, new RegExp(`编号${a1}）经核实为垃圾短信`));
    await reply(R.b, new RegExp(`编号${b}）经核实为垃圾短信`));
    await reply(R.aFake, new RegExp(`编号${aFake}）[^]*未能`));
    expect(replies.deliveredTo(R.aFake).join("")).not.toContain("经核实为垃圾短信");

    // The settled sender case says why it closed, in Chinese and in English.
    await page.goto(`${pipeline.apiUrl}/case/${encodeURIComponent(ready.a[0]!.id)}`);
    const reason = await page.waitForSelector("[data-testid=closed-reason]");
    expect(await reason.textContent()).toContain("所属群发活动已判定为垃圾短信");
    await page.evaluate(() => localStorage.setItem("lang", "en"));
    await page.reload();
    const english = await page.waitForSelector("[data-testid=closed-reason]");
    expect(await english.textContent()).toMatch(/its campaign was decided spam/);
    await page.close();
  }, 240_000);
});
