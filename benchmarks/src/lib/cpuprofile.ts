/**
 * Where a Node process's main thread spends its busy time, from a V8 `.cpuprofile` (`node --cpu-prof`):
 * self time summed into a closed set of categories, so a change to the hot paths can be judged by the
 * share it could win at most before anyone builds it.
 */
const CATEGORIES = [
  "garbage collector",
  "record codec (JSON + zod)",
  "kafka client",
  "smpp library",
  "clickhouse client",
  "logging",
  "socket writes",
  "other dependencies",
  "project code",
  "node core",
  "native and builtins",
] as const;
export type Category = (typeof CATEGORIES)[number];

export interface CpuProfile {
  readonly nodes: readonly { readonly id: number; readonly callFrame: { readonly functionName: string; readonly url: string } }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** The shape `summarizeProfile` reads; it leaves out a node whose callFrame has another shape. */
export function isCpuProfile(value: unknown): value is CpuProfile {
  if (typeof value !== "object" || value === null) return false;
  const p = value as Record<string, unknown>;
  return Array.isArray(p.nodes) && Array.isArray(p.samples) && Array.isArray(p.timeDeltas);
}

export interface ProfileSummary {
  /** Main-thread time not idle, in seconds. */
  readonly busySeconds: number;
  readonly idleSeconds: number;
  /** Share of the busy time per category, largest first; categories with no samples are left out. */
  readonly categories: readonly { readonly category: Category; readonly share: number }[];
  /** The project's own packages and services by share of the busy time (part of "project code"). */
  readonly projectParts: readonly { readonly part: string; readonly share: number }[];
  readonly topFunctions: readonly { readonly name: string; readonly share: number }[];
}

/** Our record codec: `@spam/kafka`'s decode (JSON.parse + schema) and encode (JSON.stringify), inlined into them. */
const CODEC_FUNCTIONS = new Set(["decodeRecord", "encodeValue"]);
/** Native socket writes (libuv stream bindings): V8 also counts a thread's wait to be scheduled again here. */
const SOCKET_WRITES = new Set(["writeBuffer", "writev", "writeString", "writeUtf8String", "writeLatin1String", "writeAsciiString"]);
const PROJECT = /\/(packages|services)\/([^/]+)\/(?:dist|src)\//;

export function categorize(functionName: string, url: string): { category: Category; part?: string } {
  if (functionName === "(garbage collector)") return { category: "garbage collector" };
  if (url.includes("/zod/")) return { category: "record codec (JSON + zod)" };
  const project = url.includes("/node_modules/") ? null : PROJECT.exec(url);
  if (project && project[2] === "kafka" && CODEC_FUNCTIONS.has(functionName)) return { category: "record codec (JSON + zod)" };
  if (url.includes("/@platformatic/kafka/")) return { category: "kafka client" };
  if (/\/node_modules\/smpp\//.test(url)) return { category: "smpp library" };
  if (url.includes("/@clickhouse/client")) return { category: "clickhouse client" };
  if (/\/node_modules\/(pino|sonic-boom|thread-stream|pino-[\w-]+)\//.test(url)) return { category: "logging" };
  if (url === "" && SOCKET_WRITES.has(functionName)) return { category: "socket writes" };
  if (url.includes("/node_modules/")) return { category: "other dependencies" };
  if (project) return { category: "project code", part: `${project[1]}/${project[2]}` };
  if (url.startsWith("node:")) return { category: "node core" };
  return { category: "native and builtins" };
}

export function summarizeProfile(profile: CpuProfile, topN = 8): ProfileSummary {
  const frames = new Map<number, CpuProfile["nodes"][number]["callFrame"]>();
  for (const n of profile.nodes) {
    // A frame of another shape is left out (its samples with it) rather than read as something it is not.
    if (typeof n?.callFrame?.functionName === "string" && typeof n.callFrame.url === "string") frames.set(n.id, n.callFrame);
  }
  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  let busy = 0;
  let idle = 0;
  const byCategory = new Map<Category, number>();
  const byPart = new Map<string, number>();
  const byFunction = new Map<string, number>();
  for (const [id, micros] of self) {
    const frame = frames.get(id);
    if (!frame) continue;
    if (frame.functionName === "(idle)") {
      idle += micros;
      continue;
    }
    busy += micros;
    const { category, part } = categorize(frame.functionName, frame.url);
    byCategory.set(category, (byCategory.get(category) ?? 0) + micros);
    if (part) byPart.set(part, (byPart.get(part) ?? 0) + micros);
    const where = frame.url.replace(/^.*\/node_modules\//, "").replace(/^file:\/\/.*?\/((packages|services)\/)/, "$1");
    const name = `${frame.functionName || "(anonymous)"}${where ? ` ${where}` : ""}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + micros);
  }
  const shares = <K>(m: Map<K, number>) => [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, busy > 0 ? v / busy : 0] as const);
  return {
    busySeconds: busy / 1e6,
    idleSeconds: idle / 1e6,
    categories: shares(byCategory).map(([category, share]) => ({ category, share })),
    projectParts: shares(byPart).map(([part, share]) => ({ part, share })),
    topFunctions: shares(byFunction).slice(0, topN).map(([name, share]) => ({ name, share })),
  };
}
