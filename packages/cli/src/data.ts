import { readFile } from "node:fs/promises";
import { parseLabelledTsv, type Example } from "@spam/classifier";
import { normalize } from "@spam/normalize";
import type { CommandIo } from "./command.js";

/** Progress bar on stderr (redrawn in place on a TTY, a line per stage otherwise). */
export function progressBar(io: CommandIo): (stage: string, done: number, total: number) => void {
  const tty = (io.stderr as NodeJS.WriteStream).isTTY === true;
  let last = "";
  return (stage, done, total) => {
    const width = 30;
    const frac = total === 0 ? 1 : done / total;
    const filled = Math.round(frac * width);
    const line = `${stage.padEnd(14)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`;
    if (tty) {
      io.stderr.write(`\r${line}`);
      if (done >= total) io.stderr.write("\n");
    } else if (done >= total || stage !== last) io.stderr.write(`${line}\n`);
    last = stage;
  };
}

export interface LoadedData {
  readonly examples: Example[];
  readonly files: { file: string; rows: number; spam: number; ham: number; categories: number; malformed: number }[];
}

/**
 * Read labelled TSV files; malformed lines are reported on stderr with their numbers
 * and skipped. Texts are normalised exactly as the scorer normalises them.
 */
export async function loadExamples(files: readonly string[], io: CommandIo, weight?: (file: string) => number): Promise<LoadedData> {
  const examples: Example[] = [];
  const summary: LoadedData["files"] = [];
  for (const file of files) {
    const parsed = parseLabelledTsv(await readFile(file, "utf8"));
    for (const m of parsed.malformed.slice(0, 20)) io.stderr.write(`${file}:${m.line}: skipped: ${m.reason}\n`);
    if (parsed.malformed.length > 20) io.stderr.write(`${file}: ${parsed.malformed.length - 20} more malformed lines skipped\n`);
    const w = weight?.(file) ?? 1;
    let spam = 0;
    let categories = 0;
    for (const r of parsed.rows) {
      examples.push({ text: normalize(r.text).text, raw: r.text, spam: r.spam, category: r.category, ...(w !== 1 ? { weight: w } : {}) });
      if (r.spam) spam++;
      if (r.category !== null) categories++;
    }
    summary.push({
      file,
      rows: parsed.rows.length,
      spam,
      ham: parsed.rows.length - spam,
      categories,
      malformed: parsed.malformed.length,
    });
  }
  return { examples, files: summary };
}
