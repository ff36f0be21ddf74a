import type { ZodType, ZodTypeDef } from "zod";
import {
  BlockListEntryV1,
  DeadLetterV1,
  DecisionEventV1,
  DeliveryRecordV1,
  EnforcementEventV1,
  OutboundReplyV1,
  RawMessageV1,
  ReportV1,
  ReviewLabelV1,
  VerdictV1,
  type TopicKey,
} from "@spam/contracts";
import type { ConsumedMessage } from "@spam/kafka";
import {
  blockListRows,
  deadLetterRows,
  decisionRows,
  deliveryRows,
  enforcementRows,
  replyRows,
  reportRows,
  reviewLabelRows,
  trafficRows,
  verdictRows,
  type TableRow,
} from "./rows.js";

export interface Route<T> {
  readonly key: TopicKey;
  readonly schema: ZodType<T, ZodTypeDef, unknown>;
  readonly rows: (message: ConsumedMessage<T>) => TableRow[];
}
const route = <T>(key: TopicKey, schema: ZodType<T, ZodTypeDef, unknown>, rows: (m: ConsumedMessage<T>) => TableRow[]): Route<T> => ({ key, schema, rows });

/** Every record topic and the tables its records go to. */
export const SINK_ROUTES = [
  route("trafficRaw", RawMessageV1, (m) => trafficRows(m.value)),
  route("reports", ReportV1, (m) => reportRows(m.value)),
  route("verdicts", VerdictV1, (m) => verdictRows(m.value)),
  route("blocklist", BlockListEntryV1, (m) => blockListRows(m.value, m.timestamp)),
  route("repliesOutbound", OutboundReplyV1, (m) => replyRows(m.value)),
  route("reviewLabels", ReviewLabelV1, (m) => reviewLabelRows(m.value)),
  route("enforcement", EnforcementEventV1, (m) => enforcementRows(m.value)),
  route("decisions", DecisionEventV1, (m) => decisionRows(m.value)),
  route("deadLetter", DeadLetterV1, (m) => deadLetterRows(m.value)),
  route("delivery", DeliveryRecordV1, (m) => deliveryRows(m.value)),
] as const;
