import { connect as netConnect, type Socket } from "node:net";
import { loadSmpp, type SmppPdu, type SmppSession } from "@spam/smpp-codec";

export const smpp = loadSmpp({ rawMessages: true });

export function connectClient(port: number): Promise<SmppSession> {
  return new Promise((resolve, reject) => {
    const s = smpp.connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.once("error", reject);
  });
}

export function call(session: SmppSession, command: string, fields: Record<string, unknown> = {}): Promise<SmppPdu> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${command}: no response`)), 10_000);
    const fn = session[command] as (o: Record<string, unknown>, cb: (pdu: SmppPdu) => void) => boolean;
    fn.call(session, fields, (pdu) => {
      clearTimeout(timer);
      resolve(pdu);
    });
  });
}

export async function bound(port: number, systemId: string, password: string, mode = "bind_transceiver"): Promise<SmppSession> {
  const s = await connectClient(port);
  const resp = await call(s, mode, { system_id: systemId, password });
  if (resp.command_status !== 0) throw new Error(`bind failed: ${resp.command_status}`);
  return s;
}

export function closed(session: { once(e: string, f: () => void): unknown }, timeoutMs = 5_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error("session not closed")), timeoutMs);
    session.once("close", () => {
      clearTimeout(t);
      resolve();
    });
  });
}

/** Raw TCP for malformed PDUs; collects what the server sends back. */
export function rawSocket(port: number): Promise<{ socket: Socket; received: () => Buffer; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = netConnect({ host: "127.0.0.1", port }, () =>
      resolve({ socket, received: () => Buffer.concat(chunks), closed: done }),
    );
    const done = new Promise<void>((r) => socket.once("close", () => r()));
    socket.on("data", (d: Buffer) => chunks.push(d));
    socket.on("error", () => undefined);
    socket.once("error", reject);
  });
}

export function pduBytes(commandId: number, seq: number, body: Buffer, lengthOverride?: number): Buffer {
  const head = Buffer.alloc(16);
  head.writeUInt32BE(lengthOverride ?? 16 + body.length, 0);
  head.writeUInt32BE(commandId, 4);
  head.writeUInt32BE(0, 8);
  head.writeUInt32BE(seq, 12);
  return Buffer.concat([head, body]);
}

/** The whole PDUs in a byte stream, by command_length. */
export function splitPdus(b: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at + 16 <= b.length; ) {
    const len = b.readUInt32BE(at);
    if (len < 16 || at + len > b.length) break;
    out.push(b.subarray(at, at + len));
    at += len;
  }
  return out;
}

export async function waitFor(check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 20));
  }
}
