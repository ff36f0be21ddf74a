import { loneReportStatus } from "./flow.js";
import { parseReportText } from "./parse.js";

interface ParseReportOutput {
  readonly reportedNumber: string | null;
  readonly content: string | null;
  /** Parser status: complete | content_only | number_only | error. */
  readonly status: string;
  /** The ReportV1 status a lone message gets (no pending report). */
  readonly reportStatus: string;
  readonly numberKind: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

function parseReportOutput(text: string): ParseReportOutput {
  const r = parseReportText(text);
  return {
    reportedNumber: "reportedNumber" in r ? r.reportedNumber : null,
    content: "content" in r ? r.content : null,
    status: r.status,
    reportStatus: loneReportStatus(r),
    numberKind: "numberKind" in r ? r.numberKind : null,
    error: r.status === "error" ? { code: r.code, message: r.message } : null,
  };
}

export class CliUsageError extends Error {
  override readonly name = "CliUsageError";
}

/**
 * `spam parse-report --text "…" [--json]`: what the parser makes of one text.
 * Returns the output to print; throws CliUsageError on bad arguments.
 */
export function parseReportCommand(argv: readonly string[]): string {
  let text: string | undefined;
  let json = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--json") json = true;
    else if (a === "--text") {
      text = argv[++i];
      if (text === undefined) throw new CliUsageError("--text needs a value");
    } else if (a.startsWith("--text=")) text = a.slice("--text=".length);
    else throw new CliUsageError(`unknown argument ${a}`);
  }
  if (text === undefined) throw new CliUsageError('usage: spam parse-report --text "…" [--json]');
  const out = parseReportOutput(text);
  if (json) return `${JSON.stringify(out)}\n`;
  const lines = [
    `status:          ${out.status} (report status ${out.reportStatus})`,
    `reported number: ${out.reportedNumber ?? "-"}${out.numberKind ? ` (${out.numberKind})` : ""}`,
    `content:         ${out.content ?? "-"}`,
  ];
  if (out.error) lines.push(`error:           ${out.error.code}: ${out.error.message}`);
  return `${lines.join("\n")}\n`;
}
