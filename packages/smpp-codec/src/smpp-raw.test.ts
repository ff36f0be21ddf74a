import { describe, expect, it } from "vitest";
import { decodePdu, fieldsFromSmppPdu } from "./parts.js";
import { loadSmpp } from "./smpp.js";
import { splitMessage } from "./split.js";
import { encodeText } from "./text.js";

const smpp = loadSmpp({ rawMessages: true });

function roundTrip(options: Record<string, unknown>, command = "submit_sm") {
  const buf = new smpp.PDU(command, { source_addr: "8613800000004", destination_addr: "10086999", ...options }).toBuffer();
  return new smpp.PDU(buf);
}

describe("loadSmpp({ rawMessages: true })", () => {
  it("leaves short_message and message_payload as raw octets", () => {
    const sm = Buffer.concat([Buffer.from([6, 8, 4, 1, 2, 2, 1]), encodeText("甲", 8)]);
    const pdu = roundTrip({ data_coding: 8, esm_class: 0x40, short_message: sm, message_payload: Buffer.from([1, 2]) });
    expect(Buffer.isBuffer(pdu["short_message"])).toBe(true);
    expect(pdu["short_message"]).toEqual(sm);
    expect(pdu["message_payload"]).toEqual(Buffer.from([1, 2]));
  });

  it("decodes every split part of every style through real PDUs (submit_sm and deliver_sm)", () => {
    const text = "【某银行】您的账户存在风险，请立即登录 http://x.example 验证，否则冻结😀。".repeat(3);
    for (const concat of ["udh8", "udh16", "sar"] as const) {
      for (const command of ["submit_sm", "deliver_sm"]) {
        const out = splitMessage(text, { dataCoding: 8, concat, reference: 99 })
          .map((p) => decodePdu(fieldsFromSmppPdu(roundTrip({ ...p }, command))).text)
          .join("");
        expect(out).toBe(text);
      }
    }
  });
});
