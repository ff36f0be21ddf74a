#!/usr/bin/env node
import { loadLocalConfig } from "./config.js";
import { removeFinishedRuns } from "./cleanup.js";
import { createTopics, migrate, startInfra, stopInfra } from "./infra.js";
import { createScriptLogger } from "./logger.js";
import { isAlive, readPid } from "./proc.js";
import { pidFile } from "./servers.js";

const USAGE = "usage: spam-infra <start|stop|status|migrate|topics|clean-runs> [--prefix P] [--database D] [--older-than-minutes M]";

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const option = (name: string) => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : undefined;
  };
  const config = loadLocalConfig();
  const logger = createScriptLogger("infra");
  switch (command) {
    case "start":
      await startInfra(config, logger);
      await migrate(config, logger);
      await createTopics(config, logger);
      return 0;
    case "stop":
      await stopInfra(config);
      logger.info("infrastructure stopped");
      return 0;
    case "status": {
      for (const name of ["kafka", "clickhouse"] as const) {
        const pid = readPid(pidFile(config, name));
        process.stdout.write(`${name}: ${pid !== null && isAlive(pid) ? `running (pid ${pid})` : "stopped"}\n`);
      }
      return 0;
    }
    case "migrate":
      await migrate(config, logger, option("--database") ?? config.CLICKHOUSE_DATABASE);
      return 0;
    case "topics":
      await createTopics(config, logger, option("--prefix") ?? "");
      return 0;
    case "clean-runs": {
      // Topics and databases left by finished test and benchmark runs (never the product's own).
      const minutes = Number(option("--older-than-minutes") ?? "60");
      if (!Number.isFinite(minutes) || minutes < 0) throw new Error("--older-than-minutes must be a number of minutes");
      const removed = await removeFinishedRuns(config, logger, minutes * 60_000);
      process.stdout.write(`removed ${removed.topics} topics and ${removed.databases} databases\n`);
      return 0;
    }
    default:
      process.stderr.write(`${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: Error) => {
    process.stderr.write(`[infra] ${error.name}: ${error.message}\n`);
    process.exit(1);
  },
);
