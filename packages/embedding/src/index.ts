export { createSentenceEmbedder, defaultEmbeddingModelDir, embeddingModelId, EmbeddingModelError } from "./embedder.js";
export type { SentenceEmbedder, EmbedderOptions } from "./embedder.js";
