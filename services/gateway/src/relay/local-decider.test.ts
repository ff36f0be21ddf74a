import pino from "pino";
import { describe, expect, it } from "vitest";
import { createLocalDecider } from "./local-decider.js";
import { repoPath } from "@spam/repo-paths";

const root = (p: string) => repoPath(p);

describe("local decider (RELAY_FALLBACK=local)", () => {
  it("scores with the shipped model and rules: blocks a corroborated spam text, allows an ordinary one", async () => {
    const local = await createLocalDecider({ modelPath: root("packages/classifier/models/default.model.json"), rulesDir: root("rules"), logger: pino({ level: "silent" }) });
    const at = Date.now();
    const spam = local.decide({ id: "l-1", text: "代开各类发票，增值税专用发票保真，联系V信 fp2026", source: "17000009999", destination: "13900000001", receivedAt: at });
    const ham = local.decide({ id: "l-2", text: "今晚七点在老地方吃饭，记得带伞", source: "13800000002", destination: "13900000002", receivedAt: at });
    expect(spam.action).toBe("block");
    expect(ham.action).toBe("allow");
    expect(spam.campaignId).toMatch(/^c[0-9a-f]{16}$/);
  }, 60_000);
});
