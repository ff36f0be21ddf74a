import { describe, expect, it } from "vitest";
import { ROLES, STATUS_BY_CODE } from "@spam/api-service";
import { BLOCK_STATES, CATEGORY_GROUPS, REPORT_VERIFICATIONS, SPAM_CATEGORIES, VERDICT_ACTIONS, VERDICT_LABELS } from "@spam/contracts";
// The console's string tables, plain data: checked here against the closed sets the server may send.
import { STRINGS } from "../../services/api/public/i18n.js";

const tables = STRINGS as unknown as Record<"zh" | "en", Record<string, string>>;

/** Every value the API can put on a console screen, by the prefix the console looks it up under. */
const CLOSED_SETS: Record<string, readonly string[]> = {
  // The taxonomy, its groups, the scorer's commercial class and its service-notice contribution category.
  cat: [...SPAM_CATEGORIES, ...CATEGORY_GROUPS, "commercial", "service"],
  // The decider's verifications, and "suspicious" which the API's own intake may set.
  verif: [...REPORT_VERIFICATIONS, "suspicious"],
  status: ["open", "escalated", "decided"],
  label: [...VERDICT_LABELS, "escalate"],
  outcome: ["spam", "ham"],
  action: VERDICT_ACTIONS,
  block: BLOCK_STATES,
  role: ROLES,
  err: Object.keys(STATUS_BY_CODE),
  act: ["login", "login_failed", "logout", "reveal_number", "reveal_text", "reveal_refused", "decide", "export_csv", "create_user", "login_locked", "set_password", "disable_user", "enable_user", "revoke_session", "revoke_sessions", "model_promote", "model_rollback", "model_shadow"],
};

describe("console strings", () => {
  it("have a zh-CN and an en string for every value of every closed set the API sends", () => {
    const missing: string[] = [];
    for (const [prefix, values] of Object.entries(CLOSED_SETS)) {
      for (const value of values) {
        for (const lang of ["zh", "en"] as const) {
          const s = tables[lang][`${prefix}.${value}`];
          if (typeof s !== "string" || s.trim() === "") missing.push(`${lang} ${prefix}.${value}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it("have the same keys in both languages, and the Chinese ones are Chinese", () => {
    expect(Object.keys(tables.en).sort()).toEqual(Object.keys(tables.zh).sort());
    // A Chinese string copied from English would slip through the key check; every zh string has a CJK character
    // unless it is a symbol-only label.
    const latinOnly = Object.entries(tables.zh).filter(([, s]) => /[A-Za-z]{3,}/.test(s) && !/[\u3400-\u9fff]/.test(s)).map(([k]) => k);
    expect(latinOnly).toEqual([]);
  });
});
