/** Labelled TSV data (`label<TAB>text`); category labels are those of the taxonomy in @spam/contracts. */

import { SPAM_CATEGORIES } from "@spam/contracts";

interface LabelledRow {
  /** 1-based line number in its file. */
  readonly line: number;
  readonly spam: boolean;
  /** Fine category for category data, null for spam/ham rows. */
  readonly category: string | null;
  readonly text: string;
}

interface MalformedLine {
  readonly line: number;
  readonly reason: string;
}

export interface ParsedTsv {
  readonly rows: LabelledRow[];
  readonly malformed: MalformedLine[];
}

const LABEL_RE = /^[A-Za-z_()]+$/;

/** Parse `label<TAB>text` lines; bad lines are reported with their numbers and skipped. */
export function parseLabelledTsv(content: string): ParsedTsv {
  const rows: LabelledRow[] = [];
  const malformed: MalformedLine[] = [];
  const lines = content.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i]!;
    const line = i + 1;
    if (raw.trim() === "") continue;
    const tab = raw.indexOf("\t");
    if (tab < 0) {
      malformed.push({ line, reason: "no tab separator" });
      continue;
    }
    const label = raw.slice(0, tab).trim();
    const text = raw.slice(tab + 1).trim();
    if (text === "") {
      malformed.push({ line, reason: "empty text" });
      continue;
    }
    const lower = label.toLowerCase();
    if (lower === "spam" || lower === "ham") {
      rows.push({ line, spam: lower === "spam", category: null, text });
    } else if (LABEL_RE.test(label) && (SPAM_CATEGORIES as readonly string[]).includes(label)) {
      rows.push({ line, spam: true, category: label, text: prepareSegmentedText(text) });
    } else {
      malformed.push({ line, reason: `unknown label ${JSON.stringify(label.slice(0, 40))}` });
    }
  }
  return { rows, malformed };
}

const PLACEHOLDERS: Record<string, string> = {
  DIGIT: "xx",
  PHONE: "xxxxxxxxxxx",
  URL: "http://u.cn",
  PLACE: "",
  NAME: "",
};

/**
 * The category set is word-segmented with DIGIT/URL/PHONE/PLACE/NAME placeholders.
 * Undo the segmentation between Chinese characters and turn placeholders into what
 * live text looks like after digit masking, so both sets share one feature space.
 */
export function prepareSegmentedText(text: string): string {
  const replaced = text.replace(/\b(DIGIT|PHONE|URL|PLACE|NAME)\b/g, (m) => PLACEHOLDERS[m] ?? m);
  return replaced.replace(/(?<=[^\x00-\x7f]) +| +(?=[^\x00-\x7f])/g, "").replace(/ +/g, " ").trim();
}
