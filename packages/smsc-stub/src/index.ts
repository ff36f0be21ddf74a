export { SmscStub, preciseNow } from "./stub.js";
