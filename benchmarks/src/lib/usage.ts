/**
 * Every benchmark answers `--help` (or `-h`) with its usage and exits before it starts anything: a benchmark
 * that ignored the flag would start a run of minutes, or one that refuses it would print a stack trace.
 */
export function usageOnHelp(usage: string, argv: readonly string[] = process.argv.slice(2)): void {
  if (!argv.includes("--help") && !argv.includes("-h")) return;
  process.stdout.write(usage.endsWith("\n") ? usage : `${usage}\n`);
  process.exit(0);
}

/** A summary piped into `head` stops quietly, with status 0, when its reader goes away, as Unix tools do. */
export function exitQuietlyWhenStdoutCloses(): void {
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    throw err;
  });
}
