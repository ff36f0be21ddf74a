// What other packages use; the default model directory and the error class stay internal.
export { createSentenceEmbedder, embeddingModelId } from "./embedder.js";
export type { SentenceEmbedder } from "./embedder.js";
