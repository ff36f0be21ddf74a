export {
  REPLY_VARIABLES,
  ReplyTemplatesFile,
  ReplyTemplateError,
  createReplyTemplates,
  loadReplyTemplates,
  defaultReplyTemplatesPath,
  renderReply,
} from "./templates.js";
export type { ReplyTemplates, ReplyVars, ReplyVariable, ReplyTemplateErrorCode } from "./templates.js";
export { outcomeReplyKind } from "./outcome.js";
export type { CaseOutcome, OutcomeReplyKind } from "./outcome.js";
