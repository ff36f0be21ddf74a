import { POLICY, maskNumber, maskText, type Role } from "@spam/privacy";
import type { FraudCase } from "./types.js";

/** RFC 4180 field; a leading =,+,-,@ is prefixed so spreadsheets do not run it as a formula. */
export function csvField(value: string | number | null): string {
  if (value === null) return "";
  let s = String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const HEADER = ["case_id", "sender", "category", "decided_at", "reviewer", "reports", "recipients", "campaign_id", "text"];

/**
 * UTF-8 with BOM so Excel on Chinese Windows opens the text correctly. Full numbers and text only where
 * the role's export policy is clear (admins, for the regulator); masked otherwise; nothing for the rest.
 */
export function fraudCsv(rows: readonly FraudCase[], role: Role): string {
  const treatment = POLICY[role].export;
  if (treatment === "withheld") throw new Error(`role ${role} may not export`);
  const fullNumbers = treatment === "clear";
  const lines = [HEADER.join(",")];
  for (const r of rows) {
    lines.push(
      [
        r.caseId,
        fullNumbers ? r.sender : maskNumber(r.sender),
        r.category,
        r.decidedAt,
        r.reviewer,
        r.reports,
        r.recipients,
        r.campaignId,
        fullNumbers ? r.text : maskText(r.text),
      ]
        .map(csvField)
        .join(","),
    );
  }
  return `\uFEFF${lines.join("\r\n")}\r\n`;
}
