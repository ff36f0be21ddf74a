import { readFileSync } from "node:fs";
import { z } from "zod";
import { MAX_PASSWORD, MAX_SYSTEM_ID } from "../accounts.js";
import { SourceRanges } from "../source-ranges.js";

/** One downstream SMSC (or SMS hub) a route binds to as an ESME. */
export const SmscSpec = z
  .object({
    name: z.string().min(1).max(64),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65_535),
    systemId: z.string().min(1).max(MAX_SYSTEM_ID),
    password: z.string().min(1).max(MAX_PASSWORD),
    /** transceiver: receipts come back on the same bind; transmitter: none, unless `receiver` adds a receiver bind. */
    bindMode: z.enum(["transmitter", "transceiver"]).default("transceiver"),
    /** With bindMode transmitter: a receiver bind beside it (same system_id) takes the receipts. */
    receiver: z.boolean().default(false),
    /** Unanswered submit_sm on this bind; over it the upstream gets ESME_RTHROTTLED. */
    window: z.number().int().positive().max(10_000).default(50),
    /** submit_sm per second on this bind (token bucket). */
    throughputPerSec: z.number().int().positive().default(1_000),
    reconnectMaxMs: z.number().int().positive().default(30_000),
  })
  .strict()
  .refine((s) => !s.receiver || s.bindMode === "transmitter", {
    message: "receiver: true goes with bindMode transmitter (a transceiver receives its receipts already)",
    path: ["receiver"],
  });
export type SmscSpec = z.infer<typeof SmscSpec>;

const RouteSpec = z
  .object({
    name: z.string().min(1).max(64),
    /** Upstream accounts (system_id) this route serves; absent: any account. */
    accounts: z.array(z.string().min(1).max(MAX_SYSTEM_ID)).max(1_000).optional(),
    /** Destination ranges (the source-range syntax: `13*`, `1??????????`, `*`); absent: any. */
    destinations: z.array(z.string()).max(256).optional(),
    smscs: z.array(SmscSpec).min(1).max(16),
  })
  .strict();

const RoutesSpec = z.array(RouteSpec).min(1).max(256);

export interface Route {
  readonly name: string;
  readonly accounts: ReadonlySet<string> | null;
  readonly destinations: SourceRanges | null;
  readonly smscs: readonly SmscSpec[];
}

/**
 * Routes from `RELAY_ROUTES` (JSON) or `RELAY_ROUTES_FILE`; the first route whose accounts and
 * destinations both hold the message takes it. Errors name the route and the rule, never a password.
 */
export function parseRoutes(json: string, origin: string): Route[] {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    throw new Error(`${origin}: not JSON`);
  }
  const parsed = RoutesSpec.safeParse(value);
  if (!parsed.success) throw new Error(`${origin}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
  const names = new Set<string>();
  return parsed.data.map((r) => {
    if (names.has(r.name)) throw new Error(`${origin}: route "${r.name}" is declared twice`);
    names.add(r.name);
    let destinations: SourceRanges | null = null;
    if (r.destinations) {
      try {
        destinations = SourceRanges.parse(r.destinations);
      } catch (err) {
        throw new Error(`${origin}: route "${r.name}": destinations: ${(err as Error).message}`);
      }
    }
    return { name: r.name, accounts: r.accounts ? new Set(r.accounts) : null, destinations, smscs: r.smscs };
  });
}

export function loadRoutes(inline: string | undefined, file: string | undefined): Route[] {
  if (inline) return parseRoutes(inline, "RELAY_ROUTES");
  if (file) return parseRoutes(readFileSync(file, "utf8"), file);
  throw new Error("relay mode needs RELAY_ROUTES or RELAY_ROUTES_FILE");
}

export function findRoute(routes: readonly Route[], account: string, destination: string): Route | null {
  for (const r of routes) {
    if (r.accounts && !r.accounts.has(account)) continue;
    if (r.destinations && !r.destinations.matches(destination)) continue;
    return r;
  }
  return null;
}
