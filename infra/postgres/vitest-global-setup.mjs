// Vitest global setup: starts the project-local PostgreSQL (infra/postgres/start.sh)
// unless one is running, hands its URL to the tests, and stops it afterwards only
// if this run started it. Plain ESM so it needs no build step.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
let startedHere = false;

function isRunning() {
  try {
    execFileSync("bash", ["-c", `source "${dir}common.sh"; BIN="$(pg_find_bin)" && [ -f "$PG_DATA/PG_VERSION" ] && pg_as_owner "$BIN/pg_ctl" -D "$PG_DATA" status`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

export function setup() {
  if (process.env.SKIP_INFRA === "1" || process.env.TEST_DATABASE_SERVER_URL) return;
  const wasRunning = isRunning();
  const out = execFileSync("bash", [`${dir}start.sh`], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 600_000 });
  const url = out.trim().split("\n").pop() ?? "";
  if (!url.startsWith("postgres://")) throw new Error(`infra/postgres/start.sh printed no URL: ${out}`);
  process.env.TEST_DATABASE_SERVER_URL = url;
  startedHere = !wasRunning;
}

export function teardown() {
  if (startedHere && process.env.KEEP_INFRA !== "1") execFileSync("bash", [`${dir}stop.sh`], { stdio: ["ignore", "ignore", "inherit"] });
}
