import { mkdirSync } from "node:fs";
import type pg from "pg";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClickHouse } from "@spam/api-service";
import { loginAs as login, PW, startHarness, type Harness } from "./harness.js";
import { seedCases } from "./seed.js";
import { repoPath } from "@spam/repo-paths";

/**
 * The console in a real browser (Debian's Chromium via playwright-core).
 * SCREENSHOTS=1 writes the main pages to docs/screenshots/ (committed, shown in
 * the README); otherwise they go to the ignored test-results/.
 */
const SHOT_DIR = repoPath(process.env.SCREENSHOTS === "1" ? "docs/screenshots/" : "test-results/screenshots/");
let h: Harness;
let base: string;
let browser: Harness["browser"];
let ch: ClickHouse | null = null;
let seeded: Awaited<ReturnType<typeof seedCases>>;
let pool: pg.Pool;

async function shot(page: Page, name: string) {
  mkdirSync(SHOT_DIR, { recursive: true });
  await page.screenshot({ path: `${SHOT_DIR}${name}.png`, fullPage: true });
}

const loginAs = (page: Page, username: string) => login(page, base, username);

beforeAll(async () => {
  h = await startHarness("browser", [
    { username: "reviewer1", displayName: "审核员小王", role: "reviewer" },
    { username: "analyst1", displayName: "分析师小李", role: "analyst" },
    { username: "admin1", displayName: "管理员", role: "admin" },
  ]);
  ({ base, pool, ch, browser } = h);
  if (ch) {
    // Traffic of the most reported sender, for the case page's sender chart.
    const fmt = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
    await ch.insert(
      "verdicts",
      Array.from({ length: 60 }, (_, i) => ({
        id: `bt-${i}`, message_id: `btm-${i}`, kind: "traffic", received_at: fmt(Date.now() - (i % 6) * 86_400_000 - i * 60_000),
        scored_at: fmt(Date.now()), source: "17099887766", destination: `1390000${String(i).padStart(4, "0")}`, score: i % 3 ? 0.9 : 0.55,
        label: i % 3 ? "spam" : "suspect", category: "fraud", action: i % 3 ? "block" : "flag", contributions: "[]", rule_ids: ["fraud.refund"],
        campaign_id: null, ruleset_version: "s", model_version: "s", receive_to_verdict_ms: 2,
      })),
    );
  }
  seeded = await seedCases(h.dbUrl);
}, 600_000);

afterAll(async () => {
  await h?.close();
});

describe("review console in Chromium", () => {
  it("a reviewer logs in, claims the top case, sees why it was flagged and decides it with the keyboard", async () => {
    const page = await browser.context.newPage();
    await loginAs(page, "reviewer1");
    await page.waitForSelector("[data-testid=queue-row]");
    expect(await page.locator("header nav a.active").textContent()).toBe("审核队列");
    const rows = await page.locator("[data-testid=queue-row]").count();
    // One case per subject: four senders (two of them reported) and a campaign.
    expect(rows).toBeGreaterThanOrEqual(5);
    await shot(page, "queue");

    await page.click("[data-testid=claim-next]");
    await page.waitForSelector("[data-testid=decide-spam]:not([disabled])");
    const caseUrl = page.url();
    const caseId = decodeURIComponent(caseUrl.split("/case/")[1] ?? "");
    expect(caseId).not.toBe("");
    // Why it was flagged: rule and model contributions are listed.
    expect(await page.locator("text=判定依据").count()).toBe(1);
    if (ch) await page.waitForSelector("[data-testid=chart-sender][data-rendered=true] canvas");
    await page.waitForTimeout(400);
    await shot(page, "case");

    await page.keyboard.press("1"); // category: the first fraud label
    await page.keyboard.press("/");
    await page.keyboard.type("冒充客服退款，已核实");
    await page.keyboard.press("Escape");
    await page.keyboard.press("s");
    await page.waitForURL((url) => url.toString() !== caseUrl);
    const { rows: decided } = await pool.query("SELECT status, decision, decision_category, decision_comment FROM review_cases WHERE id = $1", [caseId]);
    expect(decided[0]).toEqual({ status: "decided", decision: "spam", decision_category: "FR_Financial", decision_comment: "冒充客服退款，已核实" });
    // The decision's Kafka messages are committed with it (outbox): label, block(s), and replies if reported.
    const { rows: out } = await pool.query("SELECT DISTINCT topic_key FROM outbox WHERE payload::text LIKE $1", [`%${caseId}%`]);
    expect(out.map((r: { topic_key: string }) => r.topic_key)).toContain("reviewLabels");
    await page.close();
  });

  it("an analyst sees trend charts with data, and masked numbers stay masked", async () => {
    const page = await browser.context.newPage();
    const cspViolations: string[] = [];
    page.on("console", (m) => { if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text()); });
    await loginAs(page, "analyst1");
    await page.waitForURL(/\/analytics/);
    await page.waitForSelector("[data-testid=chart-throughput][data-rendered=true] canvas");
    // A tooltip on hover: the charts work under the strict style and script policy.
    const box = await page.locator("[data-testid=chart-throughput] canvas").first().boundingBox();
    if (box) await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForTimeout(300);
    const throughput = await page.evaluate(() => {
      const el = document.querySelector("[data-testid=chart-throughput]") as HTMLElement;
      const option = (window as unknown as { echarts: { getInstanceByDom(e: HTMLElement): { getOption(): { series: { data: number[] }[] } } } }).echarts
        .getInstanceByDom(el)
        .getOption();
      return option.series.flatMap((s) => s.data).reduce((a, b) => a + b, 0);
    });
    expect(throughput).toBeGreaterThanOrEqual(1);
    if (ch) {
      await page.waitForSelector("[data-testid=chart-volume][data-rendered=true] canvas");
      const volume = await page.evaluate(() => {
        const el = document.querySelector("[data-testid=chart-volume]") as HTMLElement;
        const option = (window as unknown as { echarts: { getInstanceByDom(e: HTMLElement): { getOption(): { series: { data: number[] }[] } } } }).echarts
          .getInstanceByDom(el)
          .getOption();
        return option.series.flatMap((s) => s.data).reduce((a, b) => a + b, 0);
      });
      expect(volume).toBeGreaterThan(1000);
    }
    await page.waitForTimeout(600); // let chart animations finish for the screenshot
    await shot(page, "analytics");

    // Queue and a reported case: numbers masked, no reveal control, ham text withheld.
    await page.goto(`${base}/queue`);
    await page.waitForSelector("[data-testid=queue-row]");
    const masked = await page.locator("[data-testid=masked-sender]").allTextContents();
    expect(masked.length).toBeGreaterThan(0);
    for (const m of masked) expect(m).toMatch(/^\d{2,3}\*+\d{2}$/);
    await page.goto(`${base}/case/${encodeURIComponent(seeded.hamCaseId)}`);
    await page.waitForSelector("[data-testid=case-text]");
    expect(await page.locator("[data-testid=case-text]").textContent()).toBe("正常短信内容默认不显示");
    expect(await page.locator("[data-testid=reveal-sender]").count()).toBe(0);
    const reveal = await page.evaluate(async (id) => {
      const res = await fetch(`/api/cases/${encodeURIComponent(id)}/reveal`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ field: "sender", reason: "想看看完整号码" }) });
      return res.status;
    }, seeded.hamCaseId);
    expect(reveal).toBe(403);
    const html = await page.content();
    for (const full of seeded.fullNumbers) expect(html).not.toContain(full);
    expect(html).not.toContain("回家吃饭");

    expect(cspViolations).toEqual([]);
    // English switch.
    await page.click("#lang");
    expect(await page.locator("header nav a[href='/queue']").textContent()).toBe("Queue");
    await page.click("#lang");
    await page.close();
  });

  it("a reviewer's reveal is audited and the admin sees who and when", async () => {
    const page = await browser.context.newPage();
    await loginAs(page, "reviewer1");
    await page.goto(`${base}/case/${encodeURIComponent("msg:b-loan-1")}`);
    await page.waitForSelector("[data-testid=case-sender]");
    expect(await page.locator("[data-testid=case-sender]").textContent()).toBe("136******78");
    // Which model version's verdict flagged it (issue 22).
    expect(await page.locator("[data-testid=case-model]").textContent()).toBe("判定模型版本：m1");
    // A reveal needs an active claim of the case (issue 17, finding 9).
    await page.click("[data-testid=claim]");
    await page.waitForSelector("#release");
    page.once("dialog", (d) => void d.accept("用户投诉核实号码"));
    await page.click("[data-testid=reveal-sender]");
    await page.waitForFunction(() => document.querySelector("[data-testid=case-sender]")?.textContent === "13612345678");
    await loginAs(page, "admin1");
    await page.goto(`${base}/audit`);
    await page.waitForSelector("[data-testid=audit-table]");
    const audit = await page.locator("[data-testid=audit-table]").textContent();
    expect(audit).toContain("reveal_number");
    expect(audit).toContain("用户投诉核实号码");
    expect(audit).toContain("reviewer1");
    await shot(page, "audit");
    await page.close();
  });

  it("a user sees their sessions and ends one opened elsewhere, which is then signed out", async () => {
    const elsewhere = await fetch(`${base}/api/auth/login`, { method: "POST", headers: { "content-type": "application/json", "user-agent": "elsewhere-agent" }, body: JSON.stringify({ username: "reviewer1", password: PW }) });
    const token = ((await elsewhere.json()) as { token: string }).token;
    const page = await browser.context.newPage();
    await loginAs(page, "reviewer1");
    await page.goto(`${base}/sessions`);
    await page.waitForSelector("[data-testid=my-sessions] tr[data-session]");
    const row = page.locator("[data-testid=my-sessions] tr[data-session]", { hasText: "elsewhere-agent" });
    expect(await row.count()).toBe(1);
    await row.locator("[data-testid=revoke-session]").click();
    await page.waitForFunction(() => ![...document.querySelectorAll("[data-testid=my-sessions] tr")].some((r) => r.textContent?.includes("elsewhere-agent")));
    expect((await fetch(`${base}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } })).status).toBe(401);
    await page.close();
  });
});
