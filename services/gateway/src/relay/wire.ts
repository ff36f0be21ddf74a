import type { SmppPdu } from "@spam/smpp-codec";
import type { WirePdu } from "./downstream.js";

/**
 * The fields of an upstream submit_sm (or data_sm) that travel on downstream: addresses,
 * classes, validity, the user data exactly as received (UDH in short_message, SAR and port
 * TLVs), so a multipart message arrives as it was sent. Nothing else is copied.
 */
const FORWARDED = [
  "service_type",
  "source_addr_ton",
  "source_addr_npi",
  "source_addr",
  "dest_addr_ton",
  "dest_addr_npi",
  "destination_addr",
  "esm_class",
  "protocol_id",
  "priority_flag",
  "schedule_delivery_time",
  "validity_period",
  "registered_delivery",
  "replace_if_present_flag",
  "data_coding",
  "sm_default_msg_id",
  "short_message",
  "message_payload",
  "sar_msg_ref_num",
  "sar_total_segments",
  "sar_segment_seqnum",
  "user_message_reference",
  "source_port",
  "destination_port",
] as const;

export function wireFromPdu(pdu: SmppPdu): WirePdu {
  const out: Record<string, unknown> = {};
  for (const k of FORWARDED) {
    const v = pdu[k];
    if (v !== undefined && v !== null) out[k] = v;
  }
  // data_sm has no short_message: it travels as a submit_sm with its message_payload.
  if (out["short_message"] === undefined) out["short_message"] = Buffer.alloc(0);
  return out;
}

/**
 * A downstream receipt as the upstream must see it: its own message id in the
 * receipted_message_id TLV and in the `id:` of the text; the rest as the SMSC said.
 */
export function receiptFor(receipt: SmppPdu, upstreamId: string, downstreamId: string): Record<string, unknown> {
  const sm = receipt["short_message"];
  const text = Buffer.isBuffer(sm) ? sm.toString("latin1") : typeof sm === "string" ? sm : "";
  const rewritten = text.startsWith(`id:${downstreamId}`) ? `id:${upstreamId}${text.slice(3 + downstreamId.length)}` : text.replace(`id:${downstreamId} `, `id:${upstreamId} `);
  const out: Record<string, unknown> = {
    source_addr: receipt["source_addr"] ?? "",
    destination_addr: receipt["destination_addr"] ?? "",
    esm_class: receipt["esm_class"] ?? 0x04,
    data_coding: 0,
    short_message: Buffer.from(rewritten, "latin1"),
    receipted_message_id: upstreamId,
  };
  for (const k of ["source_addr_ton", "source_addr_npi", "dest_addr_ton", "dest_addr_npi", "message_state", "network_error_code"] as const) {
    if (receipt[k] !== undefined) out[k] = receipt[k];
  }
  return out;
}
