#!/usr/bin/env node
/**
 * What masking costs per text (@spam/privacy maskText): an ordinary SMS, and 64 KiB pathological texts
 * (message_payload allows that) built to hurt a number detector: all digits, digits and separators
 * alternating, long separator runs, zero-width characters between digits, Chinese numerals, look-alike
 * letters, a cut-off number every few characters. Prints µs per text; the detector is one pass, so the
 * 64 KiB figures should stay within a small factor of 64 KiB / 70 chars times the ordinary one.
 */
import { parseArgs } from "node:util";
import { maskText, MAX_TEXT_CHARS } from "@spam/privacy";
import { table } from "./lib/stats.js";
import { usageOnHelp } from "./lib/usage.js";

usageOnHelp("usage: node benchmarks/dist/privacy.bench.js [--seconds 1]");
const { values: a } = parseArgs({ options: { seconds: { type: "string", default: "1" } } });
const seconds = Number(a.seconds);
const fill = (unit: string) => unit.repeat(Math.ceil(MAX_TEXT_CHARS / unit.length)).slice(0, MAX_TEXT_CHARS);

const CASES: [string, string][] = [
  ["ordinary SMS (70 chars)", "【某银行】您的账户积分即将清零，请回电 138-0013-8000 或访问 http://jf.example 兑换。"],
  ["64 KiB digits", fill("1234567890")],
  ["64 KiB digit, space", fill("1 ")],
  ["64 KiB digit, 6 separators", fill("1 - . / ")],
  ["64 KiB digit, 7 separators", fill("1 - . / _")],
  ["64 KiB zero-width between digits", fill("1\u200b\u200c\u200d")],
  ["64 KiB Chinese numerals", fill("一三八〇〇一三八〇〇〇 ")],
  ["64 KiB look-alikes", fill("lO lO lO ")],
  ["64 KiB 6-digit runs", fill("123456x")],
  ["64 KiB CJK, no digits", fill("您的快递丢失请联系客服办理退款")],
];

const rows: (string | number)[][] = [];
let sink = 0;
for (const [name, text] of CASES) {
  for (let i = 0; i < 3; i++) sink += maskText(text).length; // warm-up
  let n = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    sink += maskText(text).length;
    n++;
    now = process.hrtime.bigint();
  }
  const us = Number(now - start) / 1e3 / n;
  rows.push([name, text.length, n, Number(us.toFixed(1)), Number(((us * 1000) / text.length).toFixed(1))]);
}
process.stdout.write(`${table(["text", "chars", "runs", "µs per text", "ns per char"], rows)}\n`);
if (sink === 0) process.stdout.write("\n");
