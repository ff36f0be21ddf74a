import { watch, type FSWatcher } from "node:fs";
import type { Logger } from "pino";
import { loadRuleSet } from "./loader.js";
import type { RuleSet } from "./ruleset.js";
import { VelocityState, type VelocityOptions } from "./velocity.js";

export interface RuleWatcherOptions {
  logger: Logger;
  /** Called with each new live set (not when a reload finds the same version). */
  onReload?: (ruleSet: RuleSet, previous: RuleSet) => void;
  /** Called when a reload fails; the previous set stays live. */
  onError?: (err: unknown) => void;
  debounceMs?: number;
  /** Watch the directory for changes (default true). */
  watch?: boolean;
  velocity?: VelocityState | VelocityOptions;
}

type ReloadOutcome =
  | { status: "reloaded"; version: string; previousVersion: string }
  | { status: "unchanged"; version: string }
  | { status: "failed"; version: string; error: unknown };

export interface RuleWatcher {
  /** The live rule set: read it per message so a reload takes effect at once. */
  readonly current: RuleSet;
  /** Re-reads the directory now (e.g. on a Kafka control message). Never throws. */
  reload(): Promise<ReloadOutcome>;
  close(): void;
}

/**
 * Loads `dir` and keeps the live set fresh: file changes (debounced) and reload()
 * calls build a new set off to the side; only a fully valid set replaces the live one.
 * Throws if the initial load fails.
 */
export async function createRuleWatcher(dir: string, opts: RuleWatcherOptions): Promise<RuleWatcher> {
  const { logger } = opts;
  const velocity = opts.velocity instanceof VelocityState ? opts.velocity : new VelocityState(opts.velocity);
  let current = await loadRuleSet(dir, { logger, velocity });
  let running: Promise<ReloadOutcome> | null = null;
  let again = false;
  let timer: NodeJS.Timeout | null = null;
  let fsw: FSWatcher | null = null;
  let closed = false;

  const doReload = async (): Promise<ReloadOutcome> => {
    const previous = current;
    try {
      const next = await loadRuleSet(dir, { logger, velocity });
      if (next.version === previous.version) return { status: "unchanged", version: previous.version };
      current = next;
      logger.info({ version: next.version, previousVersion: previous.version }, "rule set reloaded");
      opts.onReload?.(next, previous);
      return { status: "reloaded", version: next.version, previousVersion: previous.version };
    } catch (error) {
      logger.error({ err: error, version: previous.version }, "rule reload failed; previous set stays live");
      opts.onError?.(error);
      return { status: "failed", version: previous.version, error };
    }
  };

  // Reloads are serialised; a request during a reload triggers one more afterwards.
  const reload = (): Promise<ReloadOutcome> => {
    if (running !== null) {
      again = true;
      return running;
    }
    running = (async () => {
      let outcome = await doReload();
      while (again && !closed) {
        again = false;
        outcome = await doReload();
      }
      running = null;
      return outcome;
    })();
    return running;
  };

  if (opts.watch !== false) {
    const debounceMs = opts.debounceMs ?? 200;
    fsw = watch(dir, { recursive: true }, () => {
      if (closed) return;
      if (timer !== null) clearTimeout(timer);
      timer = setTimeout(() => {
        timer = null;
        void reload();
      }, debounceMs);
    });
    fsw.on("error", (err) => {
      logger.error({ err }, "rule directory watch failed");
      opts.onError?.(err);
    });
  }

  return {
    get current() {
      return current;
    },
    reload,
    close() {
      closed = true;
      if (timer !== null) clearTimeout(timer);
      fsw?.close();
    },
  };
}
