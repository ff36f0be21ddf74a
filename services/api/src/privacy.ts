/** Masking lives in @spam/privacy (one policy for every service); these names stay for existing importers. */
export { maskNumber, maskText as maskNumbersInText } from "@spam/privacy";
