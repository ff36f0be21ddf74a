import { createHash } from "node:crypto";
import { sql, type ClickHouse, type SqlQuery } from "@spam/clickhouse";
import { normalize } from "@spam/normalize";
import { maskText } from "@spam/privacy";
import { z } from "zod";

const WEEK = 7 * 86_400_000;

interface DatasetRow {
  readonly label: "spam" | "ham";
  readonly category: string | null;
  /** Normalised as the scorer normalises, numbers masked, on one line. */
  readonly text: string;
  /** The campaign (or, without one, the text) the row stands for after deduplication. */
  readonly group: string;
  readonly decidedAt: number;
  readonly split: "train" | "holdout";
}

interface DatasetExport {
  readonly rows: readonly DatasetRow[];
  /** Reviewed messages found, before deduplication; those whose text is no longer stored. */
  readonly labelled: number;
  readonly missingText: number;
  readonly duplicates: number;
  /** Rows decided at or after this go to the holdout split. */
  readonly holdoutFrom: number;
}

interface DatasetOptions {
  readonly ch: ClickHouse;
  /** The latest weeks (before `now`) are held out for evaluation; default 1. */
  readonly holdoutWeeks?: number;
  readonly now?: number;
}

// Aliases differ from the columns: 18.16 would read an alias in WHERE as the aggregate.
const LabelRow = z.object({ message: z.string(), reviewed: z.enum(["spam", "ham"]), reviewed_category: z.string(), decided: z.coerce.number() });
const TextRow = z.object({ id: z.string(), text: z.string() });
const CampaignRow = z.object({ id: z.string(), campaign: z.string() });

const LABELLED = sql`SELECT assumeNotNull(message_id) FROM review_labels WHERE message_id IS NOT NULL`;

/** A reviewer's latest spam / not-spam decision per message (an escalation is no label). */
const datasetLabelsQuery: SqlQuery = sql`SELECT assumeNotNull(message_id) AS message, argMax(label, decided_at) AS reviewed,
  argMax(ifNull(category, ''), decided_at) AS reviewed_category, toUInt32(max(decided_at)) AS decided
FROM review_labels WHERE message_id IS NOT NULL AND label IN ('spam', 'ham')
GROUP BY assumeNotNull(message_id)`;

/** Texts of the reviewed messages: delivered traffic, else the content a report quoted (never who reported it). */
const datasetTrafficTextQuery: SqlQuery = sql`SELECT id, any(text) AS text FROM traffic_raw WHERE id IN (${LABELLED}) GROUP BY id`;
const datasetReportTextQuery: SqlQuery = sql`SELECT message_id AS id, any(ifNull(content, raw_text)) AS text FROM reports WHERE message_id IN (${LABELLED}) GROUP BY message_id`;
const datasetCampaignQuery: SqlQuery = sql`SELECT message_id AS id, any(ifNull(campaign_id, '')) AS campaign FROM verdicts WHERE message_id IN (${LABELLED}) GROUP BY message_id`;

/** One line of training text: normalised like the scorer's input, every number masked, no tabs or newlines. */
function trainingText(text: string): string {
  return maskText(normalize(text).text).replace(/\s+/g, " ").trim();
}

/**
 * Training data from review: one row per reviewed message with its text, deduplicated by campaign
 * (a flood of one campaign stands as one row; without a campaign, by text), the earliest decision
 * kept; rows decided in the last `holdoutWeeks` weeks form the holdout split.
 */
export async function exportDataset(options: DatasetOptions): Promise<DatasetExport> {
  const now = options.now ?? Date.now();
  const holdoutFrom = now - (options.holdoutWeeks ?? 1) * WEEK;
  const { ch } = options;
  const labels = await ch.query(datasetLabelsQuery, LabelRow);
  const texts = new Map<string, string>();
  // Report content only where no delivered message carries the id.
  for (const r of await ch.query(datasetReportTextQuery, TextRow)) texts.set(r.id, r.text);
  for (const r of await ch.query(datasetTrafficTextQuery, TextRow)) texts.set(r.id, r.text);
  const campaigns = new Map<string, string>();
  for (const r of await ch.query(datasetCampaignQuery, CampaignRow)) if (r.campaign !== "") campaigns.set(r.id, r.campaign);

  labels.sort((a, b) => a.decided - b.decided || (a.message < b.message ? -1 : 1));
  const seen = new Set<string>();
  const rows: DatasetRow[] = [];
  let missingText = 0;
  let duplicates = 0;
  for (const l of labels) {
    const stored = texts.get(l.message);
    if (stored === undefined) {
      missingText++;
      continue;
    }
    const text = trainingText(stored);
    if (text === "") {
      missingText++;
      continue;
    }
    const campaign = campaigns.get(l.message);
    // A label per group: the same campaign reviewed twice (or judged both ways) trains once, as first decided.
    const group = campaign ? `campaign:${campaign}` : `text:${createHash("sha256").update(text).digest("hex").slice(0, 16)}`;
    if (seen.has(group)) {
      duplicates++;
      continue;
    }
    seen.add(group);
    const decidedAt = l.decided * 1000;
    rows.push({ label: l.reviewed, category: l.reviewed === "spam" && l.reviewed_category !== "" ? l.reviewed_category : null, text, group, decidedAt, split: decidedAt >= holdoutFrom ? "holdout" : "train" });
  }
  return { rows, labelled: labels.length, missingText, duplicates, holdoutFrom };
}

/** `label<TAB>text` lines, as `spam train --data` and `spam eval --data` read them. */
export function toTsv(rows: readonly DatasetRow[]): string {
  return rows.map((r) => `${r.label}\t${r.text}\n`).join("");
}
