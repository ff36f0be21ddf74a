export { SmscStub, preciseNow } from "./stub.js";
export type { SmscStubOptions, ReceivedSubmit, StubMode } from "./stub.js";
