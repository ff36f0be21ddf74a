#!/usr/bin/env node
/**
 * SMPP fuzzer: random and mutated PDUs (lengths, command ids, TLVs, data
 * codings, UDH) on raw TCP connections to a gateway, while a well-behaved
 * session keeps submitting alongside. Fails (exit 1) if the gateway process
 * dies, stops answering the good session, or refuses a fresh bind at the end.
 * `--spawn` starts a private gateway (own topics) to fuzz.
 */
import { connect, type Socket } from "node:net";
import { parseArgs } from "node:util";
import { encodeText } from "@spam/smpp-codec";
import { LoadSession, smpp } from "./lib/smpp.js";
import { BENCH_ACCOUNT, PrivateStack, sleep } from "./lib/stack.js";
import { machineLoad } from "./lib/stats.js";
import { usageOnHelp } from "./lib/usage.js";

usageOnHelp("usage: node benchmarks/dist/fuzz-smpp.js [--spawn | --host 127.0.0.1 --port 2775 --system-id S --password W] [--iterations 100000] [--connections 4] [--seed 7]");
const { values: a } = parseArgs({
  options: {
    spawn: { type: "boolean", default: false },
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "2775" },
    "system-id": { type: "string", default: BENCH_ACCOUNT.systemId },
    password: { type: "string", default: BENCH_ACCOUNT.password },
    iterations: { type: "string", default: "100000" },
    connections: { type: "string", default: "4" },
    seed: { type: "string", default: "7" },
  },
});

let state = Number(a.seed) >>> 0 || 7;
const rnd = () => {
  state ^= state << 13;
  state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5;
  state >>>= 0;
  return state / 0x1_0000_0000;
};
const int = (n: number) => Math.floor(rnd() * n);
const bytes = (n: number) => {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = int(256);
  return b;
};
const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

const COMMAND_IDS = Object.values(smpp.commands).map((c) => c.id);
const DATA_CODINGS = [0, 1, 2, 3, 4, 8, 15, 0xf0, 0xff, int(256)];
const TEXTS = ["举报 17012345678*中奖诈骗", "hello", "€[]^{}", "😀😀 emoji 测试", "x".repeat(200), ""];
let seq = 1;

function validSubmit(): Buffer {
  const dc = pick([0, 3, 8, 8, 15]);
  let text = pick(TEXTS);
  let sm: Buffer;
  try {
    sm = Buffer.from(encodeText(text, dc));
  } catch {
    text = "hello";
    sm = Buffer.from(text);
  }
  const fields: Record<string, unknown> = {
    source_addr: String(13800000000 + int(1e6)),
    destination_addr: pick(["10086999", "13900000001", ""]),
    data_coding: dc,
    short_message: sm.subarray(0, 254),
    esm_class: 0,
  };
  if (rnd() < 0.3) {
    // UDH: concat IE (8 or 16-bit ref) with possibly absurd totals/sequence, or a random IE.
    const udh = rnd() < 0.5 ? Buffer.from([5, 0, 3, int(256), int(4), int(5)]) : rnd() < 0.5 ? Buffer.from([6, 8, 4, int(256), int(256), int(3), int(3)]) : bytes(1 + int(12));
    if (rnd() < 0.2) udh[0] = int(256); // UDH length that lies
    fields["short_message"] = Buffer.concat([udh, sm]).subarray(0, 254);
    fields["esm_class"] = 0x40;
  }
  if (rnd() < 0.2) {
    fields["sar_msg_ref_num"] = int(65536);
    fields["sar_total_segments"] = int(256);
    fields["sar_segment_seqnum"] = int(256);
  }
  if (rnd() < 0.1) {
    fields["message_payload"] = bytes(int(2000));
    fields["short_message"] = Buffer.alloc(0);
  }
  return new smpp.PDU("submit_sm", { sequence_number: seq++, ...fields }).toBuffer();
}

function header(len: number, id: number, status: number, sequence: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32BE(len >>> 0, 0);
  b.writeUInt32BE(id >>> 0, 4);
  b.writeUInt32BE(status >>> 0, 8);
  b.writeUInt32BE(sequence >>> 0, 12);
  return b;
}

/** One fuzzed PDU (or byte soup) and what kind of mutation made it. */
function fuzzed(): { kind: string; data: Buffer } {
  const r = int(10);
  const base = validSubmit();
  switch (r) {
    case 0:
      return { kind: "random-bytes", data: bytes(int(300)) };
    case 1: {
      const b = Buffer.from(base);
      for (let i = 0, n = 1 + int(6); i < n; i++) b[16 + int(Math.max(1, b.length - 16))] = int(256);
      return { kind: "flipped-body", data: b };
    }
    case 2: {
      const b = Buffer.from(base);
      b.writeUInt32BE(pick([0, 1, 15, 16, b.length - 1, b.length + 1, 0x7fffffff, 0xffffffff, int(70_000)]) >>> 0, 0);
      return { kind: "bad-command-length", data: b };
    }
    case 3: {
      const b = Buffer.from(base);
      b.writeUInt32BE(rnd() < 0.5 ? pick(COMMAND_IDS) : int(0x1_0000_0000), 4);
      return { kind: "command-id", data: b };
    }
    case 4:
      return { kind: "truncated", data: base.subarray(0, int(base.length)) };
    case 5: {
      // TLVs with random tags and lengths that may overrun the PDU.
      const tlvs = Buffer.concat(Array.from({ length: 1 + int(4) }, () => {
        const len = int(40);
        const t = Buffer.alloc(4);
        t.writeUInt16BE(rnd() < 0.5 ? pick([0x0424, 0x020c, 0x020e, 0x020f, 0x0204, 0x001e]) : int(65536), 0);
        t.writeUInt16BE(rnd() < 0.8 ? len : int(65536), 2);
        return Buffer.concat([t, bytes(len)]);
      }));
      const b = Buffer.concat([base, tlvs]);
      b.writeUInt32BE(b.length, 0);
      return { kind: "tlvs", data: b };
    }
    case 6: {
      const b = Buffer.from(base);
      // data_coding sits after service_type and addresses: find it by re-encoding is costly; flip a likely byte.
      const body = Buffer.concat([header(0, 4, 0, seq++), bytes(int(200))]);
      body.writeUInt32BE(body.length, 0);
      return { kind: rnd() < 0.5 ? "random-submit-body" : "valid", data: rnd() < 0.5 ? body : b };
    }
    case 7: {
      const dc = pick(DATA_CODINGS);
      const b = new smpp.PDU("submit_sm", {
        sequence_number: seq++,
        source_addr: "13800138000",
        destination_addr: "13900000001",
        data_coding: dc,
        short_message: bytes(int(255)),
        esm_class: pick([0, 0x40, 0x03, 0xff]),
      }).toBuffer();
      return { kind: "encoding", data: b };
    }
    case 8:
      return { kind: "header-only", data: header(16, pick(COMMAND_IDS), int(0x100), seq++) };
    default:
      return { kind: "valid", data: base };
  }
}

function bindPdu(): Buffer {
  return new smpp.PDU("bind_transceiver", { sequence_number: seq++, system_id: a["system-id"]!, password: a.password! }).toBuffer();
}

async function fuzzConnection(host: string, port: number, budget: () => boolean, stats: Map<string, number>): Promise<void> {
  while (budget()) {
    const socket: Socket = connect({ host, port });
    socket.setNoDelay(true);
    socket.on("data", () => undefined); // read and discard responses
    const open = await new Promise<boolean>((resolveOpen) => {
      socket.once("connect", () => resolveOpen(true));
      socket.once("error", () => resolveOpen(false));
    });
    if (!open) {
      await sleep(50);
      continue;
    }
    let closed = false;
    socket.on("close", () => (closed = true));
    socket.on("error", () => (closed = true));
    if (rnd() < 0.7) socket.write(bindPdu());
    const perConnection = 1 + int(300);
    for (let i = 0; i < perConnection && !closed && budget(); i++) {
      const { kind, data } = fuzzed();
      stats.set(kind, (stats.get(kind) ?? 0) + 1);
      if (!socket.write(data)) await new Promise<void>((r) => (closed ? r() : socket.once("drain", r).once("close", r)));
    }
    socket.destroy();
  }
}

async function main(): Promise<number> {
  let stack: PrivateStack | null = null;
  let host = a.host!;
  let port = Number(a.port);
  if (a.spawn) {
    // Mutated binds are bad binds: without a high threshold the backoff would refuse the fresh bind checked at the end.
    stack = new PrivateStack({ name: "fuzz", gateways: 1, scorers: 0, sinks: 0, gatewayEnv: { SMPP_IDLE_TIMEOUT_MS: "5000", SMPP_BIND_FAILURES_BEFORE_BACKOFF: "1000000" } });
    await stack.start();
    port = stack.smppPorts[0]!;
  }
  const iterations = Number(a.iterations);
  let used = 0;
  const budget = () => used++ < iterations;
  const stats = new Map<string, number>();
  const failures: string[] = [];

  // The well-behaved session: one submit at a time, each must be answered within 5 s.
  const good = await LoadSession.bind({ host, port, systemId: a["system-id"]!, password: a.password! }, 10);
  let goodOk = 0;
  let goodDone = false;
  const goodLoop = (async () => {
    while (!goodDone) {
      const answered = await new Promise<number | null>((resolveSubmit) => {
        const timer = setTimeout(() => resolveSubmit(-1), 5_000);
        good.submit({ source_addr: "13800000001", destination_addr: "13900000002", data_coding: 8, short_message: Buffer.from(encodeText("正常短信 fuzz 对照", 8)) }, (status) => {
          clearTimeout(timer);
          resolveSubmit(status);
        });
      });
      if (answered === 0) goodOk++;
      else if (answered !== 0x58) failures.push(`good session: submit answered ${answered === -1 ? "not within 5 s" : `with status ${answered}`}`);
      if (failures.length > 0) break;
      await sleep(20);
    }
  })();

  const t0 = Date.now();
  let lastReport = 0;
  const progress = setInterval(() => {
    if (used - lastReport >= 10_000) {
      lastReport = used;
      process.stdout.write(`${Math.min(used, iterations)} PDUs, good session ${goodOk} ok\n`);
    }
    const gw = stack?.services[0];
    if (gw && !gw.running) failures.push("gateway process exited");
  }, 1_000);
  await Promise.all(Array.from({ length: Number(a.connections) }, () => fuzzConnection(host, port, () => budget() && failures.length === 0, stats)));
  const seconds = (Date.now() - t0) / 1_000;
  goodDone = true;
  await goodLoop;
  clearInterval(progress);
  if (good.closed) failures.push("good session was closed by the gateway");
  await good.close();
  // A fresh client must still bind and be answered. The gateway refuses binds while the fuzzer's last
  // password checks run (ESME_RBINDFAIL, a few hundred ms): like any client, retry a few times.
  for (let attempt = 1; ; attempt++) {
    try {
      const fresh = await LoadSession.bind({ host, port, systemId: a["system-id"]!, password: a.password! }, 1);
      await fresh.close();
      break;
    } catch (error) {
      if (attempt < 5) {
        await sleep(500);
        continue;
      }
      failures.push(`fresh bind after fuzzing failed: ${(error as Error).message}`);
      break;
    }
  }
  if (stack) {
    const gw = stack.services[0]!;
    if (!gw.running) failures.push("gateway process exited");
    const codes = await stack.stop();
    if (Object.values(codes).some((c) => c !== 0)) failures.push(`gateway did not exit 0 on SIGTERM: ${JSON.stringify(codes)}`);
  }
  const sent = Math.min(used, iterations);
  process.stdout.write(
    `\nfuzzed PDUs: ${sent} in ${seconds.toFixed(1)} s (${Math.round(sent / seconds)}/s), machine ${JSON.stringify(machineLoad())}\n` +
      `by mutation: ${[...stats].map(([k, v]) => `${k}=${v}`).join(" ")}\n` +
      `good session: ${goodOk} submits answered OK alongside\n` +
      (failures.length ? `FAIL:\n  ${[...new Set(failures)].join("\n  ")}\n` : "PASS: the gateway never crashed or hung\n"),
  );
  return failures.length === 0 && goodOk > 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`fuzz-smpp: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
