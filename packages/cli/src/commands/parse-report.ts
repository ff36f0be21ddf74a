import { CliUsageError, parseReportCommand } from "@spam/report-parser";
import { UsageError, type Command } from "../command.js";

export const parseReportCliCommand: Command = {
  name: "parse-report",
  summary: "show what the report parser makes of one text (number, content, status, error)",
  usage: 'spam parse-report --text "13912345678*content" [--json]',
  async run(argv, io) {
    try {
      io.stdout.write(parseReportCommand(argv));
    } catch (err) {
      if (err instanceof CliUsageError) throw new UsageError(err.message);
      throw err;
    }
    return 0;
  },
};
