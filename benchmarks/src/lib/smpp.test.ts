import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { SmppPdu, SmppServer, SmppSession } from "@spam/smpp-codec";
import { LoadSession, smpp, type DeliveredPdu } from "./smpp.js";

describe("LoadSession", () => {
  let server: SmppServer | null = null;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = null;
  });

  it("hands over a deliver_sm that arrives in the same TCP segment as the bind answer", async () => {
    // What a gateway with acknowledgements waiting does when a load session binds again.
    server = smpp.createServer({}, (session: SmppSession) => {
      session.on("bind_transceiver", (pdu: SmppPdu) => {
        session.socket.cork();
        session.send(pdu.response());
        session.send(new smpp.PDU("deliver_sm", { source_addr: "10086999", destination_addr: "14700000001", short_message: Buffer.from("ok") }));
        session.socket.uncork();
      });
      session.on("unbind", (pdu: SmppPdu) => {
        session.send(pdu.response());
        session.close();
      });
    });
    await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", () => resolve()));
    const { port } = server.address() as AddressInfo;
    const delivered: DeliveredPdu[] = [];
    const load = await LoadSession.bind({ host: "127.0.0.1", port, systemId: "bench", password: "bench" }, 1, (d) => delivered.push(d));
    await new Promise((r) => setTimeout(r, 50));
    await load.close();
    expect(delivered.map((d) => d.destination)).toEqual(["14700000001"]);
  });
});
