import { basename } from "node:path";
import { normalize } from "@spam/normalize";
import type { VerdictLabel } from "@spam/contracts";
import { MESSAGE_KINDS, messageKind, notificationSignals, type MessageKind } from "@spam/scoring";

/** What one labelled message got: the scorer's action and category (when the scorer ran) and the model's call. */
export interface Outcome {
  readonly spam: boolean;
  readonly raw: string;
  readonly file: string;
  /** Scorer label and action, null when only the model was evaluated. */
  readonly label: VerdictLabel | null;
  readonly action: "allow" | "flag" | "block" | null;
  readonly category: string | null;
  /** The model alone called it spam (p ≥ threshold). */
  readonly model: boolean;
}

/**
 * Shares of one class of messages: judged spam, suspect or commercial (the scorer's label; commercial is its
 * own class whatever the operator's policy does with it), blocked, flagged, called anything but allow.
 */
export interface ClassFigures {
  readonly file: string;
  readonly label: "ham" | "spam";
  readonly kind: MessageKind | "all";
  readonly n: number;
  readonly spam: number | null;
  readonly suspect: number | null;
  readonly blocked: number | null;
  readonly flagged: number | null;
  readonly called: number | null;
  readonly commercial: number | null;
  readonly modelAlone: number;
}

const share = (k: number, n: number): number => (n === 0 ? 0 : Math.round((k / n) * 10_000) / 10_000);

function figures(file: string, label: "ham" | "spam", kind: MessageKind | "all", rows: readonly Outcome[]): ClassFigures {
  const scored = rows.length > 0 && rows[0]!.action !== null;
  const count = (f: (o: Outcome) => boolean): number => rows.filter(f).length;
  return {
    file,
    label,
    kind,
    n: rows.length,
    spam: scored ? share(count((o) => o.label === "spam"), rows.length) : null,
    suspect: scored ? share(count((o) => o.label === "suspect"), rows.length) : null,
    blocked: scored ? share(count((o) => o.action === "block"), rows.length) : null,
    flagged: scored ? share(count((o) => o.action === "flag"), rows.length) : null,
    called: scored ? share(count((o) => o.action !== "allow"), rows.length) : null,
    commercial: scored ? share(count((o) => o.label === "commercial"), rows.length) : null,
    modelAlone: share(count((o) => o.model), rows.length),
  };
}

/**
 * Per-class figures: by label, and by the rough kind of `messageKind` (@spam/scoring), over all files
 * and, when there are several, per file.
 */
export function classFigures(outcomes: readonly Outcome[]): ClassFigures[] {
  const kinds = outcomes.map((o) => messageKind(notificationSignals(normalize(o.raw))));
  const files = [...new Set(outcomes.map((o) => o.file))];
  const out: ClassFigures[] = [];
  for (const file of files.length > 1 ? ["all", ...files] : files) {
    const inFile = (i: number): boolean => file === "all" || outcomes[i]!.file === file;
    for (const label of ["ham", "spam"] as const) {
      const idx = outcomes.flatMap((o, i) => (inFile(i) && o.spam === (label === "spam") ? [i] : []));
      if (idx.length === 0) continue;
      const name = file === "all" ? "all" : basename(file);
      out.push(figures(name, label, "all", idx.map((i) => outcomes[i]!)));
      for (const kind of MESSAGE_KINDS) {
        const rows = idx.filter((i) => kinds[i] === kind).map((i) => outcomes[i]!);
        if (rows.length > 0) out.push(figures(name, label, kind, rows));
      }
    }
  }
  return out;
}

const pct = (x: number | null): string => (x === null ? "–" : `${(x * 100).toFixed(1)} %`);

/** A fixed-width table of the figures, for people. */
export function classTable(rows: readonly ClassFigures[]): string {
  const head = ["file", "label", "kind", "n", "spam", "suspect", "commercial", "blocked", "flagged", "called", "model alone"];
  const body = rows.map((r) => [r.file, r.label, r.kind, String(r.n), pct(r.spam), pct(r.suspect), pct(r.commercial), pct(r.blocked), pct(r.flagged), pct(r.called), pct(r.modelAlone)]);
  const width = head.map((h, c) => Math.max(h.length, ...body.map((b) => b[c]!.length)));
  const line = (cells: readonly string[]): string => cells.map((x, c) => (c < 3 ? x.padEnd(width[c]!) : x.padStart(width[c]!))).join("  ");
  return [line(head), ...body.map(line)].join("\n");
}
