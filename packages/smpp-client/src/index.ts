export { EsmeClient, SmppClientError, SMPP_STATUS } from "./client.js";
