import { mkdir, readFile, readdir, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadModelFromString, ModelFileV1, type SpamClassifier } from "@spam/classifier";
import { z } from "zod";

/**
 * A directory of model versions: `models/<id>.model.json` (id = the model's content hash, its
 * modelVersion), `models/<id>.card.json` and `.md` (the generated model card), and `state.json`:
 * which version is live, which runs in shadow, and every change with who made it.
 */

const MODEL_ID = /^[a-f0-9]{8,64}$/;

const ModelCardV1 = z.object({
  v: z.literal(1),
  id: z.string(),
  createdAt: z.string(),
  registeredAt: z.string(),
  parent: z.string().nullable(),
  /** The training files and their row counts, as the trainer recorded them. */
  data: z.unknown(),
  /** Per evaluation file: the candidate's figures and the live model's on the same rows (`spam eval --json`). */
  metrics: z.record(z.string(), z.object({ candidate: z.record(z.string(), z.unknown()), live: z.record(z.string(), z.unknown()).nullable() })),
  notes: z.string().max(2_000),
});
export type ModelCard = z.infer<typeof ModelCardV1>;

const ChangeV1 = z.object({
  at: z.string(),
  by: z.string().max(128),
  action: z.enum(["promote", "rollback", "shadow", "unshadow"]),
  from: z.string().nullable(),
  to: z.string().nullable(),
});

const RegistryStateV1 = z.object({
  v: z.literal(1),
  live: z.string().regex(MODEL_ID).nullable(),
  shadow: z.string().regex(MODEL_ID).nullable(),
  /** Every live version in the order it went live (rollback walks back along it). */
  liveHistory: z.array(z.string().regex(MODEL_ID)),
  changes: z.array(ChangeV1),
});
export type RegistryState = z.infer<typeof RegistryStateV1>;

type RegistryErrorCode = "invalid_id" | "not_found" | "nothing_to_roll_back" | "bad_file";

export class RegistryError extends Error {
  override readonly name = "RegistryError";
  constructor(
    readonly code: RegistryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const EMPTY: RegistryState = { v: 1, live: null, shadow: null, liveHistory: [], changes: [] };

interface RegisteredModel {
  readonly id: string;
  readonly card: ModelCard;
  readonly live: boolean;
  readonly shadow: boolean;
}

export class ModelRegistry {
  constructor(readonly dir: string) {}

  modelPath(id: string): string {
    if (!MODEL_ID.test(id)) throw new RegistryError("invalid_id", `not a model id: ${JSON.stringify(id.slice(0, 70))}`);
    return join(this.dir, "models", `${id}.model.json`);
  }

  async state(): Promise<RegistryState> {
    let text: string;
    try {
      text = await readFile(join(this.dir, "state.json"), "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return EMPTY;
      throw err;
    }
    const parsed = RegistryStateV1.safeParse(JSON.parse(text));
    if (!parsed.success) throw new RegistryError("bad_file", `${join(this.dir, "state.json")} is not a registry state: ${parsed.error.message}`);
    return parsed.data;
  }

  /** Loads a registered version, checking the file still hashes to its id. */
  async load(id: string): Promise<SpamClassifier> {
    const clf = loadModelFromString(await readFile(this.modelPath(id), "utf8"));
    if (clf.modelVersion !== id) throw new RegistryError("bad_file", `model file ${id} holds version ${clf.modelVersion}`);
    return clf;
  }

  /**
   * Registers a model file (its id is its content hash, so registering twice is harmless) with its
   * card; the parent defaults to the live version.
   */
  async add(modelText: string, card: { parent?: string | null; metrics?: ModelCard["metrics"]; notes?: string }, now = new Date()): Promise<ModelCard> {
    const file = ModelFileV1.parse(JSON.parse(modelText));
    const clf = loadModelFromString(modelText); // refuses a file whose weights do not load
    const id = clf.modelVersion;
    const state = await this.state();
    const full: ModelCard = {
      v: 1,
      id,
      createdAt: file.createdAt,
      registeredAt: now.toISOString(),
      parent: card.parent === undefined ? state.live : card.parent,
      data: (file.training as Record<string, unknown>)["data"] ?? null,
      metrics: card.metrics ?? {},
      notes: card.notes ?? "",
    };
    await mkdir(join(this.dir, "models"), { recursive: true });
    await atomicWrite(this.modelPath(id), modelText);
    await atomicWrite(join(this.dir, "models", `${id}.card.json`), `${JSON.stringify(full, null, 2)}\n`);
    await atomicWrite(join(this.dir, "models", `${id}.card.md`), cardMarkdown(full));
    return full;
  }

  async card(id: string): Promise<ModelCard> {
    this.modelPath(id); // refuses anything but an id
    const path = join(this.dir, "models", `${id}.card.json`);
    try {
      return ModelCardV1.parse(JSON.parse(await readFile(path, "utf8")));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new RegistryError("not_found", `no model ${id} in ${this.dir}`);
      throw err;
    }
  }

  async list(): Promise<RegisteredModel[]> {
    const state = await this.state();
    let names: string[];
    try {
      names = await readdir(join(this.dir, "models"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    const ids = names.filter((n) => n.endsWith(".card.json")).map((n) => n.slice(0, -".card.json".length)).filter((id) => MODEL_ID.test(id));
    const out = await Promise.all(ids.map(async (id) => ({ id, card: await this.card(id), live: state.live === id, shadow: state.shadow === id })));
    return out.sort((a, b) => b.card.registeredAt.localeCompare(a.card.registeredAt));
  }

  /** Makes a registered version live (a shadow of the same version stops shadowing). */
  async promote(id: string, by: string, now = new Date()): Promise<RegistryState> {
    await this.card(id);
    await this.load(id);
    const state = await this.state();
    if (state.live === id) return state;
    return this.write({
      ...state,
      live: id,
      shadow: state.shadow === id ? null : state.shadow,
      liveHistory: [...state.liveHistory, id],
      changes: [...state.changes, { at: now.toISOString(), by, action: "promote", from: state.live, to: id }],
    });
  }

  /** Puts back the version that was live before the current one. */
  async rollback(by: string, now = new Date()): Promise<RegistryState> {
    const state = await this.state();
    const previous = state.liveHistory.length >= 2 ? state.liveHistory[state.liveHistory.length - 2]! : null;
    if (previous === null) throw new RegistryError("nothing_to_roll_back", "nothing to roll back to: no version was live before the current one");
    return this.write({
      ...state,
      live: previous,
      liveHistory: state.liveHistory.slice(0, -1),
      changes: [...state.changes, { at: now.toISOString(), by, action: "rollback", from: state.live, to: previous }],
    });
  }

  /** Runs a registered version in shadow beside the live one (null: no shadow). */
  async setShadow(id: string | null, by: string, now = new Date()): Promise<RegistryState> {
    if (id !== null) {
      await this.card(id);
      await this.load(id);
    }
    const state = await this.state();
    return this.write({
      ...state,
      shadow: id,
      changes: [...state.changes, { at: now.toISOString(), by, action: id === null ? "unshadow" : "shadow", from: state.shadow, to: id }],
    });
  }

  private async write(state: RegistryState): Promise<RegistryState> {
    await mkdir(this.dir, { recursive: true });
    await atomicWrite(join(this.dir, "state.json"), `${JSON.stringify(state, null, 2)}\n`);
    return state;
  }
}

/** Readers (scorers on a shared directory) never see half a file. */
async function atomicWrite(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

function cardMarkdown(card: ModelCard): string {
  const lines = [
    `# Model ${card.id}`,
    "",
    `- trained: ${card.createdAt}`,
    `- registered: ${card.registeredAt}`,
    `- parent: ${card.parent ?? "none"}`,
    "",
    "## Data",
    "",
  ];
  const data = Array.isArray(card.data) ? (card.data as Record<string, unknown>[]) : [];
  if (data.length === 0) lines.push("(not recorded)");
  for (const d of data) lines.push(`- ${String(d["file"])}: ${String(d["rows"])} rows (${String(d["spam"])} spam, ${String(d["ham"])} ham)`);
  lines.push("", "## Evaluation (same figures as `spam eval`)", "");
  const keys = ["n", "precision", "recall", "f1", "mcc", "ham_fpr"] as const;
  if (Object.keys(card.metrics).length === 0) lines.push("(none)");
  for (const [file, m] of Object.entries(card.metrics)) {
    lines.push(`### ${file}`, "", "| | " + keys.join(" | ") + " |", "|---|" + keys.map(() => "---").join("|") + "|");
    const row = (name: string, r: Record<string, unknown> | null) =>
      r ? `| ${name} | ${keys.map((k) => (typeof r[k] === "number" ? Number.isInteger(r[k]) ? String(r[k]) : (r[k] as number).toFixed(4) : "–")).join(" | ")} |` : `| ${name} | ${keys.map(() => "–").join(" | ")} |`;
    lines.push(row("candidate", m.candidate), row("live", m.live), "");
  }
  if (card.notes) lines.push("## Notes", "", card.notes, "");
  return `${lines.join("\n")}\n`;
}
