import { maskNumber, maskText } from "./mask.js";

const ROLES = ["reviewer", "analyst", "admin"] as const;
export type Role = (typeof ROLES)[number];

/**
 * What leaves the server about a subscriber. `number`: a sender, reporter, recipient or reported number;
 * `text`: message text, report content, previews, campaign samples; `detail`: what a rule or model says
 * it matched (it quotes the text, so it follows the text); `note`: free text staff wrote (decision
 * comments, block reasons) and error messages, which may quote numbers; `export`: the regulator CSV.
 */
export type Field = "number" | "text" | "detail" | "note" | "export";
export type Treatment = "clear" | "masked" | "withheld";

/**
 * Masking by role, applied on the server. Nobody reads full numbers in the console: a reviewer or an
 * admin who needs one reveals it (claimed case, reason, rate limit, audit); an analyst never can.
 * Only the regulator export carries full numbers, and only for admins.
 */
export const POLICY: Readonly<Record<Role, Readonly<Record<Field, Treatment>>>> = {
  reviewer: { number: "masked", text: "masked", detail: "masked", note: "masked", export: "withheld" },
  analyst: { number: "masked", text: "masked", detail: "masked", note: "masked", export: "masked" },
  admin: { number: "masked", text: "masked", detail: "masked", note: "masked", export: "clear" },
};

/** Whether a role may ask for a full number or a withheld text at all (the claim and the limit come on top). */
export function mayReveal(role: Role): boolean {
  return role !== "analyst";
}

/**
 * A field as `role` may see it. `withheld` in the context (ham text, private correspondence) withholds
 * text and detail for every role. Returns null when withheld.
 */
export function present(role: Role, field: Field, value: string, context: { textWithheld?: boolean } = {}): string | null {
  const treatment = context.textWithheld && (field === "text" || field === "detail") ? "withheld" : POLICY[role][field];
  if (treatment === "withheld") return null;
  if (treatment === "clear") return value;
  return field === "number" ? maskNumber(value) : maskText(value);
}

/** Same as `present` for fields a schema types as nullable strings. */
export function presentNullable(role: Role, field: Field, value: string | null, context: { textWithheld?: boolean } = {}): string | null {
  return value === null ? null : present(role, field, value, context);
}
