export { createSentenceEmbedder, defaultEmbeddingModelDir, EmbeddingModelError } from "./embedder.js";
export type { SentenceEmbedder, EmbedderOptions } from "./embedder.js";
