import { readFileSync } from "node:fs";
import { z } from "zod";
import { normaliseNumber } from "@spam/report-parser";

const AllowListFile = z.object({
  description: z.string().optional(),
  senders: z.array(z.object({ number: z.string().regex(/^\+?\d{3,20}$/), name: z.string().min(1).max(200) })).max(100_000),
});

/** Service and notification senders: reports against them are kept but never auto-block. */
export class SenderAllowList {
  private readonly numbers: Set<string>;
  constructor(numbers: Iterable<string>) {
    this.numbers = new Set([...numbers].map((n) => normaliseNumber(n)?.digits ?? n));
  }
  static fromFile(path: string): SenderAllowList {
    const parsed = AllowListFile.safeParse(JSON.parse(readFileSync(path, "utf8")));
    if (!parsed.success) throw new Error(`${path}: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    return new SenderAllowList(parsed.data.senders.map((s) => s.number));
  }
  has(number: string): boolean {
    return this.numbers.has(number);
  }
  get size(): number {
    return this.numbers.size;
  }
}
