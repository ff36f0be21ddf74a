export { EsmeClient, SmppClientError, SMPP_STATUS } from "./client.js";
export type { DeliveredMessage, EsmeOptions, SubmitOptions, SubmitResult } from "./client.js";
