import {
  CaseStore,
  createPool,
  ingestReports,
  ingestVerdicts,
} from "@spam/api-service";
import { flaggedVerdict, parsedReport } from "@spam/api-service/testing";

const HOUR = 3_600_000;

/** Review cases a shift would see: single flags, a campaign, reports (one overdue), a ham flag. */
export async function seedCases(databaseUrl: string): Promise<{ hamCaseId: string; fullNumbers: string[] }> {
  const pool = createPool(databaseUrl, 4);
  const store = new CaseStore(pool, { slaHours: 48, claimTtlMinutes: 15, effects: { blockTtlMs: 86_400_000, shortCode: "10086999" } });
  const texts = new Map<string, string>();
  const now = Date.now();
  const verdicts = [
    flaggedVerdict({ messageId: "b-fraud-1", source: "17099887766", score: 0.58, category: "fraud", scoredAt: now - 30 * HOUR }),
    flaggedVerdict({ messageId: "b-loan-1", source: "13612345678", score: 0.66, category: "loans", scoredAt: now - 5 * HOUR,
      contributions: [{ source: "rule", id: "loans.no_credit_check", score: 0.5, category: "loans", detail: "无抵押 + 秒到账" }, { source: "model", id: "nb-v1", score: 0.16, category: "loans", detail: null }] }),
    flaggedVerdict({ messageId: "b-gamb-1", source: "16511112222", score: 0.71, category: "gambling", scoredAt: now - 2 * HOUR,
      contributions: [{ source: "rule", id: "gambling.casino", score: 0.6, category: "gambling", detail: "真人娱乐 + 网址" }] }),
    flaggedVerdict({ messageId: "b-ham-1", source: "13900001111", score: 0.42, label: "ham", category: null, scoredAt: now - 1 * HOUR,
      contributions: [{ source: "model", id: "nb-v1", score: 0.42, category: null, detail: null }] }),
    ...[1, 2, 3].map((i) => flaggedVerdict({ messageId: `b-camp-${i}`, source: `1708888000${i}`, score: 0.9, label: "spam", action: "block", category: "phishing", campaignId: "cmp-etc-refund", scoredAt: now - (8 - i) * HOUR })),
  ];
  texts.set("b-fraud-1", "【顺丰】您的快递已丢失，理赔请联系客服 4001234567，或添加QQ 88776655 办理退款。");
  texts.set("b-loan-1", "无抵押无担保，凭身份证即可贷款5-50万，秒到账！详询 13612345678 退订回T");
  texts.set("b-gamb-1", "澳门真人娱乐，首充送88%，注册即送彩金 www.lucky-888.vip");
  texts.set("b-ham-1", "妈，我明天晚上回家吃饭，帮我留点汤。");
  for (const i of [1, 2, 3]) texts.set(`b-camp-${i}`, `【ETC】您的ETC卡已失效，请登录 http://etc-renew${i}.top 重新认证，逾期将停用。`);
  await ingestVerdicts(store, verdicts, { textOf: (id) => texts.get(id) });
  await ingestReports(store, [
    parsedReport({ reportedNumber: "17099887766", reporterMsisdn: "13711112222", reporterHash: "seed-reporter-a", content: texts.get("b-fraud-1") ?? null, receivedAt: now - 50 * HOUR }),
    parsedReport({ reportedNumber: "17099887766", reporterMsisdn: "13733334444", content: texts.get("b-fraud-1") ?? null, receivedAt: now - 20 * HOUR }),
    parsedReport({ reportedNumber: "16511112222", reporterMsisdn: "13755556666", reporterHash: "seed-reporter-c", content: texts.get("b-gamb-1") ?? null, receivedAt: now - 3 * HOUR }),
  ]);
  await pool.query("UPDATE case_reports SET verification = 'verified' WHERE reporter_hash IN ('seed-reporter-a', 'seed-reporter-c')");
  await pool.end();
  return { hamCaseId: "msg:b-ham-1", fullNumbers: ["17099887766", "13612345678", "16511112222", "13900001111", "13711112222"] };
}
