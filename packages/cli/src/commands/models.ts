import { readFile } from "node:fs/promises";
import { userInfo } from "node:os";
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import { ModelRegistry, modelControlFor, publishModelControl, type ModelCard, type RegistryState } from "@spam/learning";
import { UsageError, type Command, type CommandIo } from "../command.js";
import { cliLogger } from "./dataset-store.js";
import { evalCommand } from "./eval.js";

const REGISTRY_OPTIONS = {
  registry: { type: "string" },
  by: { type: "string" },
  brokers: { type: "string" },
  "topic-prefix": { type: "string" },
} as const;

const USAGE = [
  "spam models list [--registry DIR] [--json]",
  "spam models add --model FILE [--eval-data F.tsv …] [--live FILE] [--parent ID] [--notes TEXT] [--registry DIR]",
  "spam models promote ID | rollback | shadow ID|--clear  [--registry DIR] [--by NAME] [--brokers HOST:PORT,…] [--topic-prefix P]",
].join("\n       ");

function registryOf(values: { registry?: string | undefined }): ModelRegistry {
  const dir = values.registry ?? process.env["MODEL_REGISTRY_DIR"];
  if (!dir) throw new UsageError("--registry DIR (or MODEL_REGISTRY_DIR) is required");
  return new ModelRegistry(dir);
}

/** Runs `spam eval --json` and returns its figures: the card records exactly what eval prints. */
async function evalFigures(model: string, data: string, io: CommandIo): Promise<Record<string, unknown>> {
  let out = "";
  const stdout = new Writable({
    write(chunk: Buffer, _enc, done) {
      out += chunk.toString();
      done();
    },
  });
  const code = await evalCommand.run(["--model", model, "--data", data, "--json"], { stdout, stderr: io.stderr, stdin: io.stdin });
  if (code !== 0) throw new Error(`spam eval of ${model} on ${data} failed (exit ${code})`);
  const { classes: _classes, ...figures } = JSON.parse(out) as Record<string, unknown>;
  return figures;
}

/** Tells the running scorers (when brokers are given) what the registry now says. */
async function announce(state: RegistryState, values: { by?: string | undefined; brokers?: string | undefined; "topic-prefix"?: string | undefined }, io: CommandIo): Promise<void> {
  const brokers = (values.brokers ?? process.env["KAFKA_BROKERS"] ?? "").split(",").map((b) => b.trim()).filter(Boolean);
  const command = modelControlFor(state, byOf(values));
  if (command === null) {
    io.stderr.write("no live version: scorers keep their model file\n");
    return;
  }
  if (brokers.length === 0) {
    io.stderr.write("no --brokers (or KAFKA_BROKERS): scorers load the change at their next start\n");
    return;
  }
  await publishModelControl({ brokers, topicPrefix: values["topic-prefix"] ?? process.env["TOPIC_PREFIX"] ?? "", command, logger: cliLogger() });
  io.stderr.write(`scorers told: live ${command.live}, shadow ${command.shadow ?? "none"}\n`);
}

function byOf(values: { by?: string | undefined }): string {
  return values.by ?? `cli:${userInfo().username}`;
}

function summary(state: RegistryState): string {
  return `${JSON.stringify({ live: state.live, shadow: state.shadow, previous: state.liveHistory.at(-2) ?? null })}\n`;
}

export const modelsCommand: Command = {
  name: "models",
  summary: "the model registry: list, add (with evaluation), promote, rollback, shadow",
  usage: USAGE,
  async run(argv, io) {
    const [sub, ...rest] = argv;
    switch (sub) {
      case "list": {
        const { values } = parseArgs({ args: rest, options: { registry: { type: "string" }, json: { type: "boolean" } }, strict: true });
        const models = await registryOf(values).list();
        if (values.json) io.stdout.write(`${JSON.stringify(models)}\n`);
        else
          for (const m of models)
            io.stdout.write(`${m.id}  ${m.live ? "LIVE  " : m.shadow ? "SHADOW" : "      "}  registered ${m.card.registeredAt}  parent ${m.card.parent ?? "none"}\n`);
        return 0;
      }
      case "add": {
        const { values } = parseArgs({
          args: rest,
          options: { ...REGISTRY_OPTIONS, model: { type: "string" }, "eval-data": { type: "string", multiple: true }, live: { type: "string" }, parent: { type: "string" }, notes: { type: "string" } },
          strict: true,
        });
        if (!values.model) throw new UsageError("--model is required");
        const registry = registryOf(values);
        const state = await registry.state();
        const live = values.live ?? (state.live ? registry.modelPath(state.live) : null);
        const metrics: ModelCard["metrics"] = {};
        for (const data of values["eval-data"] ?? []) {
          metrics[data.replace(/^.*\/(shared\/data|fixtures)\//, "$1/")] = {
            candidate: await evalFigures(values.model, data, io),
            live: live ? await evalFigures(live, data, io) : null,
          };
        }
        const card = await registry.add(await readFile(values.model, "utf8"), {
          ...(values.parent ? { parent: values.parent } : {}),
          metrics,
          ...(values.notes ? { notes: values.notes } : {}),
        });
        io.stdout.write(`${JSON.stringify(card)}\n`);
        return 0;
      }
      case "promote":
      case "shadow": {
        const { values, positionals } = parseArgs({ args: rest, options: { ...REGISTRY_OPTIONS, clear: { type: "boolean" } }, strict: true, allowPositionals: true });
        const registry = registryOf(values);
        const id = positionals[0];
        if (sub === "shadow" && values.clear) {
          const state = await registry.setShadow(null, byOf(values));
          await announce(state, values, io);
          io.stdout.write(summary(state));
          return 0;
        }
        if (!id || positionals.length > 1) throw new UsageError(`models ${sub} takes one model id`);
        const state = sub === "promote" ? await registry.promote(id, byOf(values)) : await registry.setShadow(id, byOf(values));
        await announce(state, values, io);
        io.stdout.write(summary(state));
        return 0;
      }
      case "rollback": {
        const { values } = parseArgs({ args: rest, options: REGISTRY_OPTIONS, strict: true });
        const registry = registryOf(values);
        const state = await registry.rollback(byOf(values));
        await announce(state, values, io);
        io.stdout.write(summary(state));
        return 0;
      }
      default:
        throw new UsageError(`unknown sub-command ${JSON.stringify(sub ?? "")}`);
    }
  },
};
