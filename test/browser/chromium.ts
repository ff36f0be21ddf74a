import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext } from "playwright-core";

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** A small CJK font so Chinese renders in screenshots instead of empty boxes. */
const CJK_FONT = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc";

function aptInstall(packages: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  const run = (args: string[]) =>
    asRoot
      ? execFileSync(args[0] as string, args.slice(1), { stdio: ["ignore", "ignore", "inherit"], env, timeout: 600_000 })
      : execFileSync("sudo", args, { stdio: ["ignore", "ignore", "inherit"], env, timeout: 600_000 });
  run(["apt-get", "update", "-qq"]);
  run(["apt-get", "install", "-y", "-q", "--no-install-recommends", ...packages]);
}

/** Installs Debian's Chromium (and a CJK font) when missing; idempotent, so the suite brings what it needs. */
function ensureChromium(): string {
  const missing = [...(existsSync(CHROMIUM_PATH) ? [] : ["chromium"]), ...(existsSync(CJK_FONT) ? [] : ["fonts-wqy-microhei"])];
  if (missing.length > 0) aptInstall(missing);
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`chromium not found at ${CHROMIUM_PATH} after apt-get install`);
  return CHROMIUM_PATH;
}

/** Headless Chromium with a fresh profile directory, removed on close. */
export async function launchChromium(): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const executablePath = ensureChromium();
  const profile = mkdtempSync(join(tmpdir(), "spam-chromium-"));
  // Playwright passes --user-data-dir itself for a persistent context.
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1440, height: 900 },
    locale: "zh-CN",
    timezoneId: "Asia/Shanghai",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
