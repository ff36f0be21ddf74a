import { readFileSync } from "node:fs";
import { z } from "zod";

export interface Account {
  readonly systemId: string;
  readonly password: string;
  /** submit_sm per second across the account's sessions; over it: ESME_RTHROTTLED. */
  readonly throughputPerSec: number;
  /** Unanswered submit_sm per session; over it: ESME_RTHROTTLED. */
  readonly window: number;
}

export const AccountsFile = z.array(
  z
    .object({
      systemId: z.string().min(1).max(16),
      password: z.string().min(1).max(9),
      throughputPerSec: z.number().int().positive().optional(),
      window: z.number().int().positive().optional(),
    })
    .strict(),
);

/** Accounts from `system_id:password,…` (env) and/or a JSON file; passwords never leave this map. */
export function loadAccounts(
  inline: ReadonlyMap<string, string> | undefined,
  file: string | undefined,
  defaults: { throughputPerSec: number; window: number },
): Map<string, Account> {
  const out = new Map<string, Account>();
  for (const [systemId, password] of inline ?? []) out.set(systemId, { systemId, password, ...defaults });
  if (file) {
    const parsed = AccountsFile.safeParse(JSON.parse(readFileSync(file, "utf8")));
    if (!parsed.success) {
      // Issue paths only: never echo the file's values (passwords).
      throw new Error(`${file}: invalid accounts file (${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")})`);
    }
    for (const a of parsed.data) {
      out.set(a.systemId, {
        systemId: a.systemId,
        password: a.password,
        throughputPerSec: a.throughputPerSec ?? defaults.throughputPerSec,
        window: a.window ?? defaults.window,
      });
    }
  }
  if (out.size === 0) throw new Error("no SMPP accounts configured (SMPP_ACCOUNTS or SMPP_ACCOUNTS_FILE)");
  return out;
}
