import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CaseStore, ingestDecisionEvents, ingestVerdicts } from "@spam/api-service";
import { deciderCase, flaggedVerdict, reportAssessed } from "@spam/api-service/testing";
import { CATEGORY_GROUPS, REPORT_VERIFICATIONS, SPAM_CATEGORIES } from "@spam/contracts";
import { loginAs, startHarness, type Harness } from "./harness.js";
import { repoPath } from "@spam/repo-paths";

/**
 * The console without loose ends (issue 19): every page in both languages shows no raw i18n key and, in
 * Chinese, no English value or server message; signed out there is no navigation; claiming the next case
 * after a decision is the reviewer's visible choice; rule names on the analytics axis are shown whole.
 */

const HOUR = 3_600_000;
const SHOT_DIR = repoPath("test-results/screenshots/");
/** Every category a case can carry: the taxonomy, its groups, and the scorer's commercial class. */
const CATEGORIES = [...SPAM_CATEGORIES, ...CATEGORY_GROUPS, "commercial"];
const REPORT_SENDER = "13512340000";
const HISTORY_SENDER = "13698760000";
const LONG_RULES = [
  "fraud.customer_service_refund_with_callback_number",
  "advertising.loan_no_collateral_instant_disbursement",
  "illegal.gambling_casino_first_deposit_bonus_domain",
  "fraud.phishing_bank_card_frozen_verification_link",
];

/** A raw i18n key (the console's prefixes). */
const RAW_KEY = /\b(cat|label|status|err|verif|outcome|action|block|act|role|src|kind)\.[A-Za-z_()]+/;
/** The API's English error messages (services/api: ApiError) and the console's own English fallbacks. */
const SERVER_MESSAGES = /this needs one of the roles|sign in first|wrong username or password|current password is wrong|cannot disable yourself|no such (case|session)|no case |is already decided|is claimed by|not claimed by you|claim the case before|before deciding it|reveals an hour|give a reason|analysts work on masked data|reporters' numbers|HTTP \d{3}|\bInvalid\b|\bRequired\b|\bFailed\b/;
/** Values of closed sets that must never reach a Chinese screen untranslated. */
const ENGLISH_VALUES = new RegExp(`\\b(${[
  ...REPORT_VERIFICATIONS, "suspicious", "open", "escalated", "decided", "escalate", "spam", "ham", "suspect",
  "active", "expired", "lifted", "allow", "flag", "block", "reviewer", "analyst", "admin", "rule", "model", "policy",
  ...CATEGORIES,
].map((v) => v.replace(/[()]/g, "\\$&")).join("|")})\\b`);

let h: Harness;
const ids = { report: "", campaign: "cmp:cmp-i18n", decidedSpam: "msg:hist-spam", claimedByAdmin: "msg:cat-Other" };

async function seed(): Promise<void> {
  const store = new CaseStore(h.pool, { slaHours: 48, claimTtlMinutes: 15, effects: { blockTtlMs: 86_400_000, shortCode: "10086999" } });
  const now = Date.now();
  const texts = new Map<string, string>();
  const verdicts = CATEGORIES.map((category, i) => {
    texts.set(`cat-${category}`, `测试短信 ${i}：点击 http://example-${i}.top 领取奖励`);
    return flaggedVerdict({
      messageId: `cat-${category}`, source: `1370000${String(1000 + i)}`, score: 0.5 + i / 100, category, scoredAt: now - (i + 1) * HOUR,
      contributions: [
        { source: "rule", id: LONG_RULES[i % LONG_RULES.length] as string, score: 0.4, category, detail: "命中规则" },
        { source: "model", id: "nb-v1", score: 0.1, category: i % 2 ? "service" : category, detail: null },
      ],
    });
  });
  // One sender's history in every state: decided spam, decided ham, and its current case escalated. One case per
  // subject: each of its flagged messages opens a case only once the one before is decided.
  const history = ["spam", "ham", "esc"].map((k) => {
    texts.set(`hist-${k}`, "历史短信：贷款秒到账，详询客服");
    return flaggedVerdict({ messageId: `hist-${k}`, source: HISTORY_SENDER, score: 0.6, category: "FR_Financial", scoredAt: now - 3 * HOUR });
  });
  for (const i of [1, 2, 3]) {
    texts.set(`camp-${i}`, `【ETC】您的ETC卡已失效，请登录 http://etc-i18n${i}.top 重新认证`);
    verdicts.push(flaggedVerdict({ messageId: `camp-${i}`, source: `1708888100${i}`, score: 0.9, label: "spam", action: "block", category: "FR_Phishing(Other)", campaignId: "cmp-i18n", scoredAt: now - i * HOUR }));
  }
  await ingestVerdicts(store, verdicts, { textOf: (id) => texts.get(id) });
  await ingestVerdicts(store, [history[0]!], { textOf: (id) => texts.get(id) });
  await h.pool.query("UPDATE review_cases SET status = 'decided', decision = 'spam', decision_category = 'FR_Financial', decided_at = now() WHERE id = 'msg:hist-spam'");
  await ingestVerdicts(store, [history[1]!], { textOf: (id) => texts.get(id) });
  await h.pool.query("UPDATE review_cases SET status = 'decided', decision = 'ham', decided_at = now() WHERE id = 'msg:hist-ham'");
  await ingestVerdicts(store, [history[2]!], { textOf: (id) => texts.get(id) });
  await h.pool.query("UPDATE review_cases SET status = 'escalated', decision = 'escalate', decision_comment = '需要主管确认' WHERE id = 'msg:hist-esc'");

  // A decider report case with a report of every verification status, two of them already answered.
  const event = deciderCase({ subject: REPORT_SENDER, reason: "已核实举报未达自动拦截标准", openedAt: now - 20 * HOUR });
  ids.report = event.caseId;
  const assessed = REPORT_VERIFICATIONS.map((verification, i) =>
    reportAssessed({ caseId: event.caseId, reportedNumber: REPORT_SENDER, verification, reporterHash: `i18n-reporter-${i}`, reportReceivedAt: now - (10 + i) * HOUR }));
  await ingestDecisionEvents(store, [event, ...assessed], { reportContent: () => "您的快递丢失，请联系客服 4001234567 办理退款", messageText: () => undefined });
  await h.pool.query("UPDATE case_reports SET verification = 'suspicious' WHERE reporter_hash = 'i18n-reporter-1'");
  await h.pool.query("UPDATE case_reports SET outcome = 'spam', replied_at = now() WHERE reporter_hash = 'i18n-reporter-0'");
  await h.pool.query("UPDATE case_reports SET outcome = 'ham', replied_at = now() WHERE reporter_hash = 'i18n-reporter-2'");

  if (h.ch) {
    const fmt = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace("T", " ");
    // Traffic in every category and action, and rule names longer than the old axis had room for.
    const rows = Array.from({ length: 1200 }, (_, i) => ({
      id: `i18n-${i}`, message_id: `i18n-m-${i}`, kind: "traffic", received_at: fmt(now - (i % 10) * 86_400_000 - i * 1000), scored_at: fmt(now),
      source: i % 10 === 0 ? REPORT_SENDER : `1710000${String(i % 500).padStart(4, "0")}`, destination: `1390001${String(i).padStart(4, "0")}`,
      score: 0.9, label: i % 4 ? "spam" : "suspect", category: CATEGORIES[i % CATEGORIES.length], action: ["allow", "flag", "block"][i % 3],
      contributions: "[]", rule_ids: [LONG_RULES[i % LONG_RULES.length]], campaign_id: null, ruleset_version: "s", model_version: "s", receive_to_verdict_ms: 2,
    }));
    await h.ch.insert("verdicts", rows);
    const block = (sender: string, state: string, by: string) => ({
      key: `sender:${sender}`, version: 1, kind: "sender", value: sender, state, reason: "r", evidence_report_ids: [], evidence_verdict_ids: [],
      created_by: by, created_at: fmt(now), expires_at: null, changed_at: fmt(now),
    });
    await h.ch.insert("blocklist_versions", [block(REPORT_SENDER, "active", "reviewer:reviewer1"), block(HISTORY_SENDER, "lifted", "policy:velocity_high_score")]);
  }
}

beforeAll(async () => {
  h = await startHarness("loose_ends", [
    { username: "reviewer1", displayName: "审核员小王", role: "reviewer" },
    { username: "reviewer2", displayName: "审核员小张", role: "reviewer" },
    { username: "analyst1", displayName: "分析师小李", role: "analyst" },
    { username: "admin1", displayName: "管理员", role: "admin" },
  ]);
  await seed();
}, 600_000);

afterAll(async () => {
  await h?.close();
});

/** Every string the user can see: visible text (outside <code>, which shows identifiers), labels of form controls, and the charts' names and axes. */
async function visibleStrings(page: Page): Promise<{ text: string[]; code: string[] }> {
  return page.evaluate(() => {
    const text: string[] = [document.title];
    const code: string[] = [];
    const visible = (node: Element) => (node as HTMLElement).offsetParent !== null || getComputedStyle(node).position === "fixed";
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let n = walker.nextNode(); n; n = walker.nextNode()) {
      const parent = n.parentElement;
      const value = n.textContent?.trim();
      if (!parent || !value || !visible(parent) || parent.closest("script,style")) continue;
      (parent.closest("code") ? code : text).push(value);
    }
    for (const node of document.querySelectorAll("[placeholder],[title],option")) {
      text.push(node.getAttribute("placeholder") ?? "", node.getAttribute("title") ?? "", node.tagName === "OPTION" ? (node.textContent ?? "") : "");
    }
    const echarts = (window as unknown as { echarts?: { getInstanceByDom(e: Element): { getOption(): Record<string, unknown> } | undefined } }).echarts;
    for (const node of document.querySelectorAll("[data-rendered=true]")) {
      const option = echarts?.getInstanceByDom(node)?.getOption() as
        | { series?: { name?: string }[]; xAxis?: { data?: unknown[]; name?: string }[]; yAxis?: { data?: unknown[]; name?: string }[] }
        | undefined;
      if (!option) continue;
      for (const s of option.series ?? []) text.push(s.name ?? "");
      // Rule ids on an axis are identifiers, like <code> on the page.
      for (const a of [...(option.xAxis ?? []), ...(option.yAxis ?? [])]) {
        text.push(a.name ?? "");
        if (node.id !== "ch-rules") for (const d of a.data ?? []) text.push(String(d));
      }
    }
    return { text: text.filter(Boolean), code };
  });
}

/** Fails with the page and the offending strings. */
async function expectClean(page: Page, lang: "zh" | "en", where: string): Promise<void> {
  const { text, code } = await visibleStrings(page);
  const raw = [...text, ...code].filter((s) => RAW_KEY.test(s));
  expect(raw, `${where} (${lang}): raw i18n keys`).toEqual([]);
  if (lang === "zh") {
    const english = text.filter((s) => SERVER_MESSAGES.test(s) || ENGLISH_VALUES.test(s));
    expect(english, `${where} (zh): English values or server messages`).toEqual([]);
  }
}

async function setLang(page: Page, lang: "zh" | "en"): Promise<void> {
  await page.evaluate((l) => localStorage.setItem("lang", l), lang);
}

async function settle(page: Page, path: string, ready: string): Promise<void> {
  await page.goto(`${h.base}${path}`);
  await page.waitForSelector(ready);
  // Charts and the sender's traffic arrive after the page.
  await page.waitForLoadState("networkidle");
}

describe("the console without loose ends (issue 19)", () => {
  it("every page, in Chinese and in English, shows no raw key and, in Chinese, no English value or server message", async () => {
    const page = await h.browser.context.newPage();
    await loginAs(page, h.base, "admin1");
    // A case claimed by someone else, for the reviewer's conflict below.
    const claimed = await page.evaluate(async (id) => (await fetch(`/api/cases/${encodeURIComponent(id)}/claim`, { method: "POST" })).status, ids.claimedByAdmin);
    expect(claimed).toBe(200);
    for (const lang of ["zh", "en"] as const) {
      await loginAs(page, h.base, "admin1");
      await setLang(page, lang);
      await settle(page, "/queue", "[data-testid=queue-row]");
      // Every category of the seed is in the queue, with its label.
      expect(await page.locator("[data-testid=queue-row]").count()).toBeGreaterThanOrEqual(CATEGORIES.length + 2);
      await expectClean(page, lang, "queue");
      await settle(page, "/queue?status=escalated", "[data-testid=queue-row]");
      await expectClean(page, lang, "escalated queue");
      for (const [name, id] of [["report case", ids.report], ["campaign case", ids.campaign], ["decided case", ids.decidedSpam], ["message case", "msg:cat-FR_Other"], ["commercial case", "msg:cat-commercial"], ["history case", "msg:hist-esc"]] as const) {
        await settle(page, `/case/${encodeURIComponent(id)}`, "[data-testid=case-text]");
        if (name === "report case") expect(await page.locator("[data-testid=masked-reporter]").count()).toBe(REPORT_VERIFICATIONS.length);
        if (name === "report case" && h.ch) await page.waitForSelector("#traffic-card:not([hidden])");
        await expectClean(page, lang, name);
      }
      for (const category of CATEGORIES) {
        await settle(page, `/case/${encodeURIComponent(`msg:cat-${category}`)}`, "[data-testid=case-text]");
        await expectClean(page, lang, `case of category ${category}`);
      }
      await settle(page, "/analytics", "[data-testid=chart-throughput]");
      await expectClean(page, lang, "analytics");
      await settle(page, "/audit", "[data-testid=audit-table]");
      await expectClean(page, lang, "audit");
      await settle(page, "/sessions", "[data-testid=users-table]");
      await expectClean(page, lang, "sessions and users");

      // Failures in the reviewer's words: a page the role may not open, a case that does not exist,
      // a case someone else holds, a wrong current password.
      await loginAs(page, h.base, "reviewer1");
      await setLang(page, lang);
      await settle(page, "/audit", "[data-testid=page-error]");
      await expectClean(page, lang, "audit as reviewer (forbidden)");
      await settle(page, "/case/msg%3Ano-such-case", "[data-testid=page-error]");
      await expectClean(page, lang, "missing case");
      await settle(page, `/case/${encodeURIComponent(ids.claimedByAdmin)}`, "[data-testid=claim]");
      await page.click("[data-testid=claim]");
      await page.waitForSelector("#toast:not([hidden])");
      await expectClean(page, lang, "claim of a case held by another reviewer");
      await settle(page, "/sessions", "#password-form");
      await page.fill("input[name=currentPassword]", "not-the-password");
      await page.fill("input[name=newPassword]", "another-password-123");
      await page.click("#password-form button[type=submit]");
      await page.waitForFunction(() => (document.getElementById("password-error")?.textContent ?? "") !== "");
      await expectClean(page, lang, "wrong current password");
    }
    await page.close();
  }, 300_000);

  it("signed out, the page shows no navigation, no audit link and no sign-out button", async () => {
    const page = await h.browser.context.newPage();
    await loginAs(page, h.base, "admin1");
    expect(await page.isVisible("a[href='/audit']")).toBe(true);
    await page.click("#logout");
    await page.waitForSelector("#login-form");
    for (const selector of ["header", "header nav", "a[href='/audit']", "a[href='/queue']", "#logout"]) {
      expect(await page.isVisible(selector), `${selector} after signing out`).toBe(false);
    }
    // A fresh visit without a session lands on the sign-in form, again without the chrome.
    await page.context().clearCookies();
    await page.goto(`${h.base}/queue`);
    await page.waitForSelector("#login-form");
    for (const selector of ["header", "a[href='/audit']", "#logout"]) expect(await page.isVisible(selector), `${selector} on a fresh visit`).toBe(false);
    await page.close();
  });

  it("after a decision the next case is claimed only when the reviewer ticked the box, which is remembered", async () => {
    const page = await h.browser.context.newPage();
    await loginAs(page, h.base, "reviewer2");
    const claimedBy = async () =>
      (await h.pool.query("SELECT c.id FROM review_cases c JOIN users u ON u.id = c.claimed_by WHERE u.username = 'reviewer2' AND c.status <> 'decided' AND c.claim_expires > now()")).rows.map((r: { id: string }) => r.id);

    await settle(page, `/case/${encodeURIComponent("msg:cat-AD_Loan")}`, "[data-testid=claim]");
    await page.click("[data-testid=claim]");
    await page.waitForSelector("[data-testid=decide-ham]:not([disabled])");
    const box = page.locator("[data-testid=claim-next-after]");
    expect(await box.isVisible()).toBe(true);
    expect(await box.isChecked()).toBe(false); // off by default
    await page.click("[data-testid=decide-ham]");
    await page.waitForURL(/\/queue$/);
    expect(await claimedBy()).toEqual([]);

    await settle(page, `/case/${encodeURIComponent("msg:cat-AD_Retail")}`, "[data-testid=claim]");
    await page.click("[data-testid=claim]");
    await page.waitForSelector("[data-testid=decide-ham]:not([disabled])");
    await page.locator("[data-testid=claim-next-after]").check();
    const before = page.url();
    await page.click("[data-testid=decide-ham]");
    await page.waitForURL((url) => url.toString() !== before && url.pathname.startsWith("/case/"));
    const next = decodeURIComponent(new URL(page.url()).pathname.slice("/case/".length));
    expect(await claimedBy()).toEqual([next]);
    // Remembered: the next case's box is ticked.
    await page.waitForSelector("[data-testid=claim-next-after]");
    expect(await page.locator("[data-testid=claim-next-after]").isChecked()).toBe(true);
    expect(await page.evaluate(() => localStorage.getItem("claimNextAfterDecision"))).toBe("1");
    await page.close();
  });

  it.skipIf(!process.env.CLICKHOUSE_URL)("rule names on the analytics axis are shown whole, inside the chart", async () => {
    const page = await h.browser.context.newPage();
    await loginAs(page, h.base, "analyst1");
    await settle(page, "/analytics", "[data-testid=chart-rules][data-rendered=true] canvas");
    await page.waitForTimeout(800); // the chart's entry animation
    mkdirSync(SHOT_DIR, { recursive: true });
    await page.locator("[data-testid=chart-rules]").screenshot({ path: `${SHOT_DIR}analytics-rules.png` });
    const result = await page.evaluate(() => {
      type Rect = { x: number; y: number; width: number; height: number; clone(): Rect; applyTransform(m: number[]): void };
      type Text = { style?: { text?: string }; ignore?: boolean; invisible?: boolean; getBoundingRect(): Rect; getComputedTransform(): number[] | null };
      const node = document.getElementById("ch-rules") as HTMLElement;
      const chart = (window as unknown as { echarts: { getInstanceByDom(e: HTMLElement): { getOption(): { series: unknown[] } & Record<string, unknown>; getZr(): { storage: { getDisplayList(update: boolean): Text[] } } } } }).echarts.getInstanceByDom(node);
      const option = chart.getOption() as unknown as { xAxis: { type: string; data?: string[] }[]; yAxis: { type: string; data?: string[] }[] };
      const rules = [...option.xAxis, ...option.yAxis].find((a) => a.type === "category")?.data ?? [];
      const canvas = { width: node.clientWidth, height: node.clientHeight };
      const labels = chart.getZr().storage.getDisplayList(true)
        .filter((e) => !e.ignore && !e.invisible && typeof e.style?.text === "string" && e.style.text !== "")
        .map((e) => {
          const r = e.getBoundingRect().clone();
          const m = e.getComputedTransform();
          if (m) r.applyTransform(m);
          return { text: e.style?.text as string, x: r.x, y: r.y, right: r.x + r.width, bottom: r.y + r.height };
        });
      return { rules, canvas, labels };
    });
    expect(result.rules.length).toBeGreaterThanOrEqual(LONG_RULES.length);
    for (const rule of LONG_RULES) expect(result.rules).toContain(rule);
    for (const rule of result.rules) {
      const label = result.labels.find((l) => l.text === rule);
      expect(label, `the label of ${rule} is drawn in full`).toBeDefined();
      if (!label) continue;
      expect(label.x, `${rule}: left edge`).toBeGreaterThanOrEqual(0);
      expect(label.y, `${rule}: top edge`).toBeGreaterThanOrEqual(0);
      expect(label.right, `${rule}: right edge`).toBeLessThanOrEqual(result.canvas.width);
      expect(label.bottom, `${rule}: bottom edge`).toBeLessThanOrEqual(result.canvas.height);
    }
    // Nothing else drawn in the chart (axis names, legend, ticks) runs off it either.
    const outside = result.labels.filter((l) => l.x < 0 || l.y < 0 || l.right > result.canvas.width || l.bottom > result.canvas.height).map((l) => l.text);
    expect(outside).toEqual([]);
    await page.close();
  });
});
