export { loadReplyTemplates, defaultReplyTemplatesPath, renderReply } from "./templates.js";
export type { ReplyTemplates } from "./templates.js";
export { outcomeReplyKind } from "./outcome.js";
export type { OutcomeReplyKind } from "./outcome.js";
