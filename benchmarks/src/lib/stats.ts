import { readFileSync, readdirSync } from "node:fs";
import * as hdr from "hdr-histogram-js";

/** Latency recorder in microseconds (1 µs … 10 min, 3 significant digits). */
export class LatencyHistogram {
  private readonly h = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 600_000_000, numberOfSignificantValueDigits: 3 });
  recordMs(ms: number): void {
    this.h.recordValue(Math.max(1, Math.round(ms * 1_000)));
  }
  get count(): number {
    return this.h.totalCount;
  }
  summaryMs(): LatencySummary {
    const q = (p: number) => (this.h.totalCount === 0 ? 0 : this.h.getValueAtPercentile(p) / 1_000);
    return { count: this.h.totalCount, p50: q(50), p90: q(90), p99: q(99), max: this.h.totalCount === 0 ? 0 : this.h.maxValue / 1_000 };
  }
}

export interface LatencySummary {
  readonly count: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
}

const CLK_TCK = 100; // Linux USER_HZ; /proc/<pid>/stat times are in these ticks.

export interface ProcSample {
  readonly pid: number;
  readonly cpuTicks: number;
  readonly rssBytes: number;
  readonly hwmBytes: number;
  readonly at: number;
}

/** utime+stime from /proc/<pid>/stat and VmRSS/VmHWM from /proc/<pid>/status; null if the process is gone. */
export function sampleProc(pid: number): ProcSample | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the parenthesised command name (which may contain spaces).
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0) * 1_024;
    return { pid, cpuTicks: utime + stime, rssBytes: kb("VmRSS"), hwmBytes: kb("VmHWM"), at: Date.now() };
  } catch {
    return null;
  }
}

export interface ProcUsage {
  readonly name: string;
  readonly pid: number;
  /** Average CPU over the interval, in cores (1.0 = one core busy). */
  readonly cpuCores: number;
  readonly rssMb: number;
  readonly peakRssMb: number;
}

export function procUsage(name: string, a: ProcSample, b: ProcSample): ProcUsage {
  const seconds = Math.max(0.001, (b.at - a.at) / 1_000);
  return {
    name,
    pid: b.pid,
    cpuCores: (b.cpuTicks - a.cpuTicks) / CLK_TCK / seconds,
    rssMb: b.rssBytes / 1_048_576,
    peakRssMb: b.hwmBytes / 1_048_576,
  };
}

/** Node processes whose command line runs `services/<name>/dist/main.js`: name → pids. */
export function findServicePids(): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
    } catch {
      continue;
    }
    const m = /services\/([a-z-]+)\/dist\/main\.js/.exec(cmd);
    if (!m?.[1]) continue;
    const list = out.get(m[1]) ?? [];
    list.push(Number(entry));
    out.set(m[1], list);
  }
  return out;
}

export function readPidFile(path: string): number | null {
  try {
    const pid = Number(readFileSync(path, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** 1-minute load average and core count, to state the machine's load next to every figure. */
export function machineLoad(): { loadavg1: number; cores: number } {
  const load = readFileSync("/proc/loadavg", "utf8").split(" ");
  const cores = readFileSync("/proc/cpuinfo", "utf8").split("\n").filter((l) => l.startsWith("processor")).length;
  return { loadavg1: Number(load[0]), cores };
}

/** Fixed-width table for stdout. */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [header, ...rows].map((r) => r.map((c) => (typeof c === "number" ? fmt(c) : c)));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? "").length)));
  return cells
    .map((r, ri) => {
      const line = r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ");
      return ri === 0 ? `${line}\n${widths.map((w) => "-".repeat(w)).join("  ")}` : line;
    })
    .join("\n");
}

export function fmt(n: number): string {
  if (Number.isInteger(n)) return String(n);
  if (Math.abs(n) >= 100) return n.toFixed(0);
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toFixed(2);
}
