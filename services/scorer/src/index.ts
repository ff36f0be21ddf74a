export { createScorerService } from "./main.js";
export { loadScorerEnv } from "./env.js";
export { ModalRuleEngine } from "./velocity-replay.js";
export { ModelSwitch } from "./models.js";
