import { describe, expect, it } from "vitest";
import { decodePdu, fieldsFromSmppPdu } from "./parts.js";
import { loadSmpp } from "./smpp.js";
import { encodeText } from "./text.js";

// Without raw mode the smpp package pre-decodes short_message to { udh, message }.
const smpp = loadSmpp();

function roundTrip(options: Record<string, unknown>) {
  const buf = new smpp.PDU("submit_sm", { source_addr: "8613800000003", destination_addr: "10086999", ...options }).toBuffer();
  return new smpp.PDU(buf);
}

describe("fieldsFromSmppPdu with the smpp package's pre-decoded form", () => {
  it("shows what the package hands over", () => {
    const pdu = roundTrip({ data_coding: 8, short_message: encodeText("举报", 8) });
    expect(pdu["short_message"]).toEqual({ message: "举报" });
  });

  it("UCS-2 with a UDH given as element buffers", () => {
    const sm = Buffer.concat([Buffer.from([5, 0, 3, 12, 2, 2]), encodeText("第二段😀", 8)]);
    const pdu = roundTrip({ data_coding: 8, esm_class: 0x40, short_message: sm });
    const fields = fieldsFromSmppPdu(pdu);
    expect(Buffer.from(fields.shortMessage)).toEqual(sm);
    expect(decodePdu(fields)).toEqual({ text: "第二段😀", concat: { style: "udh8", reference: 12, total: 2, seq: 2 } });
  });

  it("GB18030 stays a Buffer inside the pre-decoded object", () => {
    const sm = encodeText("退订回T", 15);
    const fields = fieldsFromSmppPdu(roundTrip({ data_coding: 15, short_message: sm }));
    expect(decodePdu(fields).text).toBe("退订回T");
  });

  it("ASCII (data_coding 1) that the package read as GSM comes back right", () => {
    const fields = fieldsFromSmppPdu(roundTrip({ data_coding: 1, short_message: Buffer.from("pay $5 @ shop_1", "latin1") }));
    expect(decodePdu(fields).text).toBe("pay $5 @ shop_1");
  });

  it("GSM with the extension table", () => {
    const fields = fieldsFromSmppPdu(roundTrip({ data_coding: 0, short_message: encodeText("Win {100€}", 0) }));
    expect(decodePdu(fields).text).toBe("Win {100€}");
  });

  it("message_payload and SAR TLVs", () => {
    const fields = fieldsFromSmppPdu(
      roundTrip({
        data_coding: 8,
        message_payload: encodeText("长短信内容", 8),
        sar_msg_ref_num: 77,
        sar_total_segments: 3,
        sar_segment_seqnum: 1,
      }),
    );
    expect(decodePdu(fields)).toEqual({ text: "长短信内容", concat: { style: "sar", reference: 77, total: 3, seq: 1 } });
  });
});
