import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import { PUBLIC_DIR } from "../http/app.js";
import { SETTLED_BY_CAMPAIGN } from "./decisions.js";
import { CLOSED_REASONS } from "./rows.js";

describe("closed-case reasons", () => {
  it("every reason code a closed case may carry has a console string in Chinese and in English", async () => {
    const { STRINGS } = (await import(pathToFileURL(`${PUBLIC_DIR}/i18n.js`).href)) as { STRINGS: Record<"zh" | "en", Record<string, string>> };
    expect(CLOSED_REASONS).toContain(SETTLED_BY_CAMPAIGN);
    for (const code of CLOSED_REASONS) {
      expect(STRINGS.zh[`reason.${code}`], code).toMatch(/[\u4e00-\u9fff]/);
      expect(STRINGS.en[`reason.${code}`], code).toMatch(/^[\x20-\x7e]+$/);
    }
  });
});
