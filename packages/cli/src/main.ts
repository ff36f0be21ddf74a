#!/usr/bin/env node
import { realpathSync } from "node:fs";
import { pathToFileURL } from "node:url";
import { UsageError, type Command, type CommandIo } from "./command.js";
import { cvCommand } from "./commands/cv.js";
import { datasetCommand } from "./commands/dataset.js";
import { evalCommand } from "./commands/eval.js";
import { modelsCommand } from "./commands/models.js";
import { parseReportCliCommand } from "./commands/parse-report.js";
import { rulesCommand } from "./commands/rules.js";
import { scoreCommand } from "./commands/score.js";
import { trainCommand } from "./commands/train.js";

/** The command registry: add a command by writing commands/<name>.ts and listing it here. */
const COMMANDS: readonly Command[] = [trainCommand, evalCommand, scoreCommand, cvCommand, parseReportCliCommand, datasetCommand, modelsCommand, rulesCommand];

function help(io: CommandIo): void {
  io.stdout.write("usage: spam <command> [options]\n\n");
  for (const c of COMMANDS) io.stdout.write(`  ${c.name.padEnd(14)} ${c.summary}\n      ${c.usage}\n`);
}

export async function main(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "help" || name === "--help" || name === "-h") {
    help(io);
    return name === undefined ? 2 : 0;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    io.stderr.write(`unknown command ${JSON.stringify(name)}\n`);
    help(io);
    return 2;
  }
  // Before the command parses its options: `--help` is no option of theirs, and must not read data.
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(`spam ${cmd.name}: ${cmd.summary}\nusage: ${cmd.usage}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest, io);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")) {
      io.stderr.write(`spam ${cmd.name}: ${(err as Error).message}\nusage: ${cmd.usage}\n`);
      return 2;
    }
    io.stderr.write(`spam ${cmd.name}: ${(err as Error).message}\n`);
    return 1;
  }
}

// Run only when executed directly (not when imported by tests).
if (process.argv[1] && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href) {
  // The reader went away (`spam score … | head -1`): nobody wants the rest, so stop as Unix tools do, quietly.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin }).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
