// opencc-js ships its dictionaries as plain ESM modules without type declarations.
declare module "opencc-js/dict/TSCharacters" {
  /** "trad simp [alt…]|trad simp|…" */
  const dict: string;
  export default dict;
}
