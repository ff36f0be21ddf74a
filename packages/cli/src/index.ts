export { COMMANDS, main } from "./main.js";
export { UsageError } from "./command.js";
export type { Command, CommandIo } from "./command.js";
