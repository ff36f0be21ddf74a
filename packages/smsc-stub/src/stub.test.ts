import pino from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { loadSmpp, type SmppPdu, type SmppSession } from "@spam/smpp-codec";
import { SmscStub } from "./stub.js";

const smpp = loadSmpp({ rawMessages: true });
let stub: SmscStub | null = null;
afterEach(async () => {
  await stub?.close();
  stub = null;
});

function call(s: SmppSession, command: string, fields: Record<string, unknown>): Promise<SmppPdu> {
  return new Promise((resolve) => (s[command] as (o: object, cb: (p: SmppPdu) => void) => void)(fields, resolve));
}
function connect(port: number): Promise<SmppSession> {
  return new Promise((resolve, reject) => {
    const s = smpp.connect({ host: "127.0.0.1", port }, () => resolve(s));
    s.on("error", reject);
  });
}

describe("SMSC stub", () => {
  it("accepts a submit, answers its own id, records the octets as received and returns a DELIVRD receipt", async () => {
    stub = new SmscStub({ logger: pino({ level: "silent" }), receiptDelayMs: 1 });
    await stub.listen();
    const s = await connect(stub.port);
    expect((await call(s, "bind_transceiver", { system_id: "any", password: "x" })).command_status).toBe(0);
    const receipt = new Promise<SmppPdu>((resolve) => s.on("deliver_sm", (p: SmppPdu) => { s.send(p.response()); resolve(p); }));
    const resp = await call(s, "submit_sm", { source_addr: "1", destination_addr: "2", registered_delivery: 1, short_message: Buffer.from("hello") });
    expect(resp.command_status).toBe(0);
    expect(stub.received).toMatchObject([{ messageId: resp["message_id"], text: "hello", registeredDelivery: 1 }]);
    const r = await receipt;
    expect(r["receipted_message_id"]).toBe(resp["message_id"]);
    expect(String(r["short_message"])).toContain("stat:DELIVRD");
    s.destroy();
  });

  it("sends the receipt for a transmitter's submit to a receiver session of the same system_id, never to another's", async () => {
    stub = new SmscStub({ logger: pino({ level: "silent" }), receiptDelayMs: 1 });
    await stub.listen();
    const stranger = await connect(stub.port);
    expect((await call(stranger, "bind_receiver", { system_id: "other", password: "x" })).command_status).toBe(0);
    const strangerGot: SmppPdu[] = [];
    stranger.on("deliver_sm", (p: SmppPdu) => { stranger.send(p.response()); strangerGot.push(p); });
    const rx = await connect(stub.port);
    expect((await call(rx, "bind_receiver", { system_id: "relay", password: "x" })).command_status).toBe(0);
    const receipt = new Promise<SmppPdu>((resolve) => rx.on("deliver_sm", (p: SmppPdu) => { rx.send(p.response()); resolve(p); }));
    const tx = await connect(stub.port);
    expect((await call(tx, "bind_transmitter", { system_id: "relay", password: "x" })).command_status).toBe(0);
    const resp = await call(tx, "submit_sm", { source_addr: "1", destination_addr: "2", registered_delivery: 1, short_message: Buffer.from("hello") });
    expect((await receipt)["receipted_message_id"]).toBe(resp["message_id"]);
    await new Promise((r) => setTimeout(r, 50));
    expect(strangerGot).toEqual([]);
    for (const s of [stranger, rx, tx]) s.destroy();
  });

  it("refuses a bind with the wrong credentials when it has its own, and throttles or fails on demand", async () => {
    stub = new SmscStub({ logger: pino({ level: "silent" }), systemId: "relay", password: "pw" });
    await stub.listen();
    const bad = await connect(stub.port);
    expect((await call(bad, "bind_transmitter", { system_id: "relay", password: "nope" })).command_status).toBe(smpp.errors["ESME_RBINDFAIL"]);
    const s = await connect(stub.port);
    expect((await call(s, "bind_transmitter", { system_id: "relay", password: "pw" })).command_status).toBe(0);
    stub.mode = "throttle";
    expect((await call(s, "submit_sm", { source_addr: "1", destination_addr: "2", short_message: Buffer.from("x") })).command_status).toBe(smpp.errors["ESME_RTHROTTLED"]);
    stub.mode = "fail";
    expect((await call(s, "submit_sm", { source_addr: "1", destination_addr: "2", short_message: Buffer.from("x") })).command_status).toBe(smpp.errors["ESME_RSYSERR"]);
    expect(stub.received).toEqual([]);
    s.destroy();
  });
});
