// The console's one way to build DOM from data: strings become text nodes, never markup. No module of
// the console assigns innerHTML; the Content-Security-Policy forbids inline script as a second wall.

/** el("td", { class: "muted", dataset: { testid: "x" } }, "text", otherNode, [more]) */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") for (const [k, v] of Object.entries(value)) { if (v !== undefined && v !== null) node.dataset[k] = String(v); }
    else if (key === "style") Object.assign(node.style, value); // CSSOM, which the style-src policy allows
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (["hidden", "disabled", "value", "required"].includes(key)) node[key] = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

/** Appends children: nodes as they are, anything else as text; null, undefined and false are skipped. */
export function append(node, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

/** Replaces the content of `node` with `children`. */
export function show(node, ...children) {
  node.replaceChildren();
  return append(node, children);
}
