// Review console: plain ES modules, no build step. Talks to the API with the session cookie.
// Every value from the server is rendered as text through el() (dom.js); nothing here parses HTML.
import { append, el, show } from "./dom.js";
import { getLang, has, setLang, t } from "./i18n.js";

const view = document.getElementById("view");
let me = null;
let keyHandler = null;
const charts = [];
/** The taxonomy from /api/categories (one home: @spam/contracts). */
let taxonomy = { spam: [], groups: [] };

const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString(getLang() === "zh" ? "zh-CN" : "en-GB", { hour12: false }) : "");
/** A category's label, or the stored value itself (as text) when it is not in the taxonomy. */
const cat = (c) => (c ? (has(`cat.${c}`) ? t(`cat.${c}`) : String(c)) : "—");
/** A value of a closed set (status, verification, action …) through its string; a value we do not know yet stays as sent. */
const named = (prefix, v) => (v === null || v === undefined || v === "" ? "" : has(`${prefix}.${v}`) ? t(`${prefix}.${v}`) : String(v));
/** Who set a block: `reviewer:<name>` or `policy:<rule>` from the decider. */
function blockActor(by) {
  const [kind, ...rest] = String(by).split(":");
  const who = rest.join(":");
  return kind === "reviewer" ? t("block.byReviewer", { u: who }) : kind === "policy" ? t("block.byPolicy", { r: who }) : String(by);
}
const GROUP_ORDER = ["FR_", "IL_", "AD_"];
const rank = (c) => { const i = GROUP_ORDER.findIndex((p) => c.startsWith(p)); return i < 0 ? GROUP_ORDER.length : i; };
/** Fraud first: the keys 1–9 pick the first nine. */
const decisionCategories = () => [...taxonomy.spam].sort((a, b) => rank(a) - rank(b));
/** The preselected label for a case flagged with a group (or already a label). */
function defaultCategory(c) {
  if (taxonomy.spam.includes(c)) return c;
  return { fraud: "FR_Other", advertising: "AD_Other", other: "Other" }[c] ?? decisionCategories()[0];
}

class HttpError extends Error {
  constructor(status, body) { super(body?.error?.message ?? `HTTP ${status}`); this.status = status; this.body = body; }
}

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  const text = await res.text();
  const data = text && res.headers.get("content-type")?.includes("json") ? JSON.parse(text) : text;
  if (res.status === 401 && !path.startsWith("/api/auth/login")) { me = null; go("/login"); throw new HttpError(401, data); }
  if (!res.ok) throw new HttpError(res.status, data);
  return data;
}

function toast(msg) {
  const box = document.getElementById("toast");
  box.textContent = msg;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (box.hidden = true), 3500);
}
/**
 * What a failure says to the user: the console's string for the API's error code (a closed set); the server's
 * English message only when the code is one this console does not know.
 */
function errorText(e, overrides = {}) {
  const code = e?.body?.error?.code;
  if (typeof code === "string" && Object.hasOwn(overrides, code)) return overrides[code];
  if (typeof code === "string" && has(`err.${code}`)) return t(`err.${code}`);
  return e?.message || t("err.generic");
}
const fail = (e) => toast(`${t("err.generic")}: ${errorText(e)}`);

function go(path, replace = false) {
  if (location.pathname + location.search !== path) history[replace ? "replaceState" : "pushState"]({}, "", path);
  route();
}
window.addEventListener("popstate", () => route());
document.addEventListener("click", (e) => {
  const a = e.target.closest("a[data-nav], a[data-link]");
  if (a && !e.metaKey && !e.ctrlKey) { e.preventDefault(); go(a.getAttribute("href")); }
});

function applyStatic() {
  document.querySelectorAll("[data-i18n]").forEach((node) => (node.textContent = t(node.dataset.i18n)));
  document.getElementById("lang").textContent = getLang() === "zh" ? "EN" : "中文";
  document.title = `${t("brand")} · 10086999`;
}
document.getElementById("lang").addEventListener("click", () => { setLang(getLang() === "zh" ? "en" : "zh"); applyStatic(); route(); });
document.getElementById("logout").addEventListener("click", async () => { await api("POST", "/api/auth/logout").catch(() => {}); me = null; go("/login"); });

function chrome() {
  const top = document.getElementById("top");
  top.hidden = !me;
  // Role-bound links stay hidden unless the signed-in user has the role (signed out: hidden too).
  top.querySelectorAll("[data-role]").forEach((node) => (node.hidden = !me || node.dataset.role !== me.role));
  if (!me) { document.getElementById("whoami").textContent = ""; return; }
  document.getElementById("whoami").textContent = `${me.displayName} (${named("role", me.role)})`;
  top.querySelectorAll("a[data-nav]").forEach((a) => a.classList.toggle("active", location.pathname.startsWith(a.getAttribute("href"))));
}

async function route() {
  keyHandler = null;
  while (charts.length) charts.pop().dispose();
  applyStatic();
  if (!me && location.pathname !== "/login") {
    try { me = await api("GET", "/api/auth/me"); } catch { return; }
  }
  chrome();
  const p = location.pathname;
  try {
    if (p === "/login") return renderLogin();
    if (taxonomy.spam.length === 0) taxonomy = await api("GET", "/api/categories");
    if (p.startsWith("/case/")) return await renderCase(decodeURIComponent(p.slice(6)));
    if (p === "/analytics") return await renderAnalytics();
    if (p === "/audit") return await renderAudit();
    if (p === "/models") return await renderModels();
    if (p === "/sessions") return await renderSessions();
    if (p === "/") return go(me.role === "analyst" ? "/analytics" : "/queue", true);
    return await renderQueue();
  } catch (e) {
    if (e.status !== 401) show(view, el("div", { class: "card error", dataset: { testid: "page-error" } }, errorText(e)));
  }
}

document.addEventListener("keydown", (e) => {
  if (!keyHandler || e.ctrlKey || e.metaKey || e.altKey) return;
  if (["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName)) { if (e.key === "Escape") document.activeElement.blur(); return; }
  keyHandler(e);
});

const tag = (text, cls = "") => el("span", { class: `tag ${cls}`.trim() }, text);
const kbd = (k) => el("kbd", {}, k);
const table = (attrs, head, rows, empty) =>
  el("table", attrs, head ? el("thead", {}, el("tr", {}, head.map((h) => el("th", {}, h)))) : null,
    el("tbody", {}, rows.length ? rows : el("tr", {}, el("td", { class: "muted", colspan: head?.length ?? 1 }, empty ?? t("c.none")))));

// ---- login ----------------------------------------------------------------
function renderLogin() {
  chrome();
  const error = el("p", { class: "error", id: "login-error" });
  const form = el("form", { class: "card login", id: "login-form" },
    el("h3", {}, t("login.title")),
    el("label", { for: "username" }, t("login.user")), el("input", { id: "username", name: "username", autocomplete: "username", required: true }),
    el("label", { for: "password" }, t("login.pass")), el("input", { id: "password", name: "password", type: "password", autocomplete: "current-password", required: true }),
    error,
    el("button", { class: "primary", type: "submit", id: "login-submit" }, t("login.go")),
    el("button", { type: "button", id: "login-lang", class: "right", onclick: () => { setLang(getLang() === "zh" ? "en" : "zh"); renderLogin(); } }, getLang() === "zh" ? "English" : "中文"),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(form);
    try {
      const res = await api("POST", "/api/auth/login", { username: f.get("username"), password: f.get("password") });
      me = res.user;
      go(me.role === "analyst" ? "/analytics" : "/queue");
    } catch (err) {
      error.textContent = err.status === 429 ? t("login.rate") : t("login.bad");
    }
  });
  show(view, form);
  document.getElementById("username").focus();
}

// ---- queue ----------------------------------------------------------------
async function renderQueue() {
  const params = new URLSearchParams(location.search);
  const q = new URLSearchParams();
  for (const k of ["status", "source", "category", "minAgeHours"]) if (params.get(k)) q.set(k, params.get(k));
  q.set("limit", "100");
  const data = await api("GET", `/api/queue?${q}`);
  const canDecide = me.role !== "analyst";
  const select = (name, values, labeler) =>
    el("select", { name }, ["", ...values].map((v) => el("option", { value: v, selected: params.get(name) === v }, v ? labeler(v) : t("q.all"))));
  const filters = el("form", { class: "filters", id: "filters" },
    el("strong", {}, t("q.title")), el("span", { class: "muted", dataset: { testid: "queue-total" } }, t("q.total", { n: data.total })),
    el("label", {}, t("q.status"), " ", el("select", { name: "status" },
      el("option", { value: "open" }, t("q.open")), el("option", { value: "escalated", selected: params.get("status") === "escalated" }, t("q.escalated")))),
    el("label", {}, t("q.source"), " ", select("source", ["classifier", "report", "campaign"], (v) => t(`src.${v}`))),
    el("label", {}, t("q.category"), " ", select("category", [...taxonomy.groups, "commercial", ...decisionCategories()], cat)),
    el("label", {}, t("q.minAge"), " ", el("input", { name: "minAgeHours", type: "number", min: "0", class: "narrow", value: params.get("minAgeHours") ?? "" })),
    el("button", { type: "submit" }, t("q.apply")),
    el("span", { class: "spacer" }),
    canDecide ? el("button", { class: "primary", type: "button", id: "claim-next", dataset: { testid: "claim-next" } }, t("q.next"), " ", kbd("N")) : null,
  );
  filters.addEventListener("submit", (e) => {
    e.preventDefault();
    const f = new URLSearchParams();
    for (const [k, v] of new FormData(filters)) if (v) f.set(k, v);
    go(`/queue?${f}`);
  });
  const rows = data.items.map((c) => el("tr", { class: "row", dataset: { testid: "queue-row" }, onclick: () => go(`/case/${encodeURIComponent(c.id)}`) },
    el("td", {}, c.priority?.toFixed(2) ?? ""),
    el("td", {}, tag(t(`kind.${c.kind}`))),
    el("td", { dataset: { testid: "masked-sender" } }, c.sender),
    el("td", {}, c.preview === null ? el("span", { class: "withheld" }, t("c.withheld")) : c.preview),
    el("td", {}, cat(c.category)),
    el("td", {}, c.score.toFixed(2)),
    el("td", {}, `${c.recipients} / ${c.reports}`),
    el("td", {}, `${c.ageHours} h`),
    el("td", {}, c.slaRemainingHours === null ? "" : tag(`${c.slaRemainingHours} h`, c.slaRemainingHours < 0 ? "overdue" : c.slaRemainingHours < 12 ? "soon" : "")),
    el("td", {}, c.claimedBy ?? ""),
  ));
  const head = [t("col.priority"), t("col.kind"), t("col.sender"), t("col.preview"), t("q.category"), t("col.score"), t("col.reach"), t("col.age"), t("col.sla"), t("col.claim")];
  show(view, el("div", { class: "card" }, filters, table({ dataset: { testid: "queue-table" } }, head, rows, t("q.none"))));
  const next = async () => {
    try {
      const res = await api("POST", "/api/queue/claim-next", {});
      if (res.case) go(`/case/${encodeURIComponent(res.case.id)}`); else toast(t("q.none"));
    } catch (e) { fail(e); }
  };
  document.getElementById("claim-next")?.addEventListener("click", next);
  if (canDecide) keyHandler = (e) => { if (e.key === "n") next(); };
}

// ---- case -----------------------------------------------------------------
const CLAIM_NEXT_KEY = "claimNextAfterDecision";
/** Off unless the reviewer ticked it; remembered in this browser. */
const claimNextAfter = () => localStorage.getItem(CLAIM_NEXT_KEY) === "1";
async function renderCase(id) {
  const c = await api("GET", `/api/cases/${encodeURIComponent(id)}`);
  const canDecide = me.role !== "analyst";
  const open = c.status !== "decided";
  const maxAbs = Math.max(0.0001, ...c.contributions.map((x) => Math.abs(x.score)));
  const domains = Array.isArray(c.domainsToBlock) ? c.domainsToBlock.filter((d) => typeof d === "string") : [];
  const categories = decisionCategories();

  const head = el("div", { class: "card" },
    el("h3", {}, t(`kind.${c.kind}`), " · ", el("span", { dataset: { testid: "case-sender" } }, c.sender), " ",
      // A reveal needs an active claim of the case (the server refuses it otherwise).
      canDecide && c.claimedByMe ? el("button", { type: "button", id: "reveal-sender", dataset: { testid: "reveal-sender" } }, t("c.reveal")) : null, " ",
      c.modelLabel ? tag(has(`label.${c.modelLabel}`) ? t(`label.${c.modelLabel}`) : c.modelLabel, ["spam", "ham", "suspect", "commercial"].includes(c.modelLabel) ? c.modelLabel : "") : null, " ",
      el("span", { class: "muted" }, `${t("col.score")} ${c.score.toFixed(2)} · ${cat(c.category)} · ${c.recipients} / ${c.reports}`)),
    el("div", { class: "msg", dataset: { testid: "case-text" } }, c.text === null ? el("span", { class: "withheld" }, t("c.withheld")) : c.text),
    c.claimedByMe && (c.canRevealText || (canDecide && c.text !== null)) ? el("p", {}, el("button", { type: "button", id: "reveal-text" }, t("c.revealText"))) : null,
  );
  const why = el("div", { class: "card" }, el("h3", {}, t("c.why")),
    c.modelVersion ? el("p", { class: "muted", dataset: { testid: "case-model" } }, t("c.modelVersion", { v: c.modelVersion })) : null,
    table({}, null, c.contributions.map((x) => el("tr", {},
      el("td", {}, named("src", x.source)),
      el("td", {}, el("code", {}, x.id)),
      el("td", {}, el("span", { class: x.score < 0 ? "bar neg" : "bar", style: { width: `${Math.round((Math.abs(x.score) / maxAbs) * 120)}px` } }), ` ${x.score.toFixed(2)}`),
      el("td", {}, cat(x.category)),
      el("td", { class: "muted" }, x.detail ?? ""),
    ))));
  const reports = el("div", { class: "card" }, el("h3", {}, `${t("c.reports")} (${c.reportList.length})`),
    table({}, [t("c.receivedAt"), t("c.reporter"), t("col.preview"), t("c.verification"), t("c.outcome")], c.reportList.map((r) => el("tr", {},
      el("td", {}, fmtTime(r.receivedAt)),
      el("td", { dataset: { testid: "masked-reporter" } }, r.reporter),
      el("td", {}, r.content ?? ""),
      el("td", {}, tag(named("verif", r.verification), r.verification === "verified" ? "spam" : r.verification === "fabricated" ? "overdue" : "")),
      el("td", {}, named("outcome", r.outcome)),
    ))));
  // One case per subject: the sender's flagged single messages are evidence inside its case.
  const flagged = c.messageList?.length ? el("div", { class: "card" }, el("h3", {}, `${t("c.messages")} (${c.messageList.length})`),
    table({}, [t("c.receivedAt"), t("col.score"), t("q.category"), t("col.preview")], c.messageList.map((m) => el("tr", {},
      el("td", {}, fmtTime(m.flaggedAt)), el("td", {}, m.score.toFixed(2)), el("td", {}, cat(m.category)),
      el("td", {}, m.text === null ? el("span", { class: "withheld" }, t("c.withheld")) : m.text))))) : null;
  const campaign = c.campaign ? el("div", { class: "card" },
    el("h3", {}, t("c.campaign"), " ", el("code", {}, c.campaign.id), ` · ${t("c.members", { n: c.campaign.members, o: c.campaign.open })}`),
    c.campaign.samples.map((s) => el("div", { class: "msg sample" }, s))) : null;

  const decideCard = el("div", { class: "card", id: "decide-card" },
    el("h3", {}, c.decision ? t("c.decided", { l: t(`label.${c.decision.label}`) }) : c.claimedByMe ? t("c.mine") : c.claimedBy ? t("c.claimedBy", { u: c.claimedBy }) : ""),
    c.decision ? [el("p", {}, `${cat(c.decision.category)} · ${c.decision.by ?? t("c.byPolicy")} · ${fmtTime(c.decision.at)}`),
      // A policy's comment is its reason code, shown translated below.
      el("p", { class: "muted" }, c.closedReason?.startsWith("policy.") ? "" : (c.decision.comment ?? ""))] : null,
    c.closedReason ? el("p", { dataset: { testid: "closed-reason" } }, t("c.closedReason", { r: has(`reason.${c.closedReason}`) ? t(`reason.${c.closedReason}`) : c.closedReason })) : null,
  );
  if (canDecide && open) {
    const pre = defaultCategory(c.category);
    append(decideCard, [
      el("div", { class: "actions" }, c.claimedByMe
        ? el("button", { type: "button", id: "release" }, t("c.release"), " ", kbd("R"))
        : el("button", { class: "primary", type: "button", id: "claim", dataset: { testid: "claim" } }, t("c.claim"), " ", kbd("C"))),
      el("p", {}, el("label", {}, t("q.category"), " ", el("select", { id: "category", dataset: { testid: "category" } },
        categories.map((k, i) => el("option", { value: k, selected: k === pre }, `${i < 9 ? `${i + 1}. ` : ""}${cat(k)}`))))),
      domains.length ? el("div", { class: "domains", dataset: { testid: "domains-to-block" } }, el("p", { class: "muted" }, t("c.domains")),
        el("ul", {}, domains.map((d) => el("li", {}, el("code", {}, d))))) : null,
      el("textarea", { id: "comment", placeholder: t("c.comment"), dataset: { testid: "comment" } }),
      c.campaignId ? el("p", {}, el("label", {}, el("input", { type: "checkbox", id: "whole", checked: c.kind === "campaign" }), " ", t("c.wholeCampaign"))) : null,
      el("p", {}, el("label", {}, el("input", { type: "checkbox", id: "claim-next-after", dataset: { testid: "claim-next-after" }, checked: claimNextAfter(),
        onchange: (e) => localStorage.setItem(CLAIM_NEXT_KEY, e.target.checked ? "1" : "0") }), " ", t("c.claimNextAfter"))),
      el("div", { class: "actions" },
        el("button", { class: "danger", type: "button", dataset: { decide: "spam", testid: "decide-spam" }, disabled: !c.claimedByMe }, t("c.spam"), " ", kbd("S")),
        el("button", { class: "ok", type: "button", dataset: { decide: "ham", testid: "decide-ham" }, disabled: !c.claimedByMe }, t("c.ham"), " ", kbd("H")),
        el("button", { type: "button", dataset: { decide: "escalate", testid: "decide-escalate" }, disabled: !c.claimedByMe }, t("c.escalate"), " ", kbd("E"))),
      el("p", { class: "muted" }, `${t("c.keys")}: `, kbd("C"), ` ${t("c.claim")} · `, kbd("S"), "/", kbd("H"), "/", kbd("E"), " · ", kbd("1"), "–", kbd("9"),
        ` ${t("q.category")} · `, kbd("/"), ` ${t("c.comment").split(/[（(]/)[0]} · `, kbd("N"), ` ${t("q.next")} · `, kbd("R"), ` ${t("c.release")}`),
    ]);
  }
  const traffic = el("div", { class: "card", id: "traffic-card", hidden: true }, el("h3", {}, t("c.traffic")),
    el("p", { class: "muted", id: "traffic-summary" }), el("div", { class: "chart small", id: "ch-sender", dataset: { testid: "chart-sender" } }));
  const history = el("div", { class: "card" }, el("h3", {}, t("c.history")),
    table({}, null, c.senderHistory.map((h) => el("tr", {},
      el("td", {}, el("a", { href: `/case/${encodeURIComponent(h.id)}`, dataset: { link: "" } }, t(`kind.${h.kind}`))),
      el("td", {}, fmtTime(h.openedAt)),
      el("td", {}, h.decision ? tag(named("label", h.decision), ["spam", "ham"].includes(h.decision) ? h.decision : "") : named("status", h.status)),
      el("td", {}, cat(h.category)),
    ))));
  show(view,
    el("p", {}, el("a", { href: "/queue", dataset: { link: "" } }, `← ${t("c.back")}`)),
    el("div", { class: "grid" }, el("div", {}, head, why, reports, flagged, campaign), el("div", {}, decideCard, traffic, history)));

  api("GET", `/api/cases/${encodeURIComponent(id)}/sender-traffic`).then((tr) => {
    if (!tr || !document.getElementById("traffic-card")) return;
    traffic.hidden = false;
    document.getElementById("traffic-summary").textContent = t("c.trafficSummary", { m: tr.messages, r: tr.recipients }) +
      (tr.block ? ` · ${t("c.block")}: ${t("block.by", { s: named("block", tr.block.state), by: blockActor(tr.block.createdBy) })}` : "");
    if (tr.days.length) {
      chart(document.getElementById("ch-sender"), {
        tooltip: { trigger: "axis" }, grid: { left: 36, right: 8, top: 10, bottom: 24 },
        xAxis: { type: "category", data: tr.days.map((d) => d.day.slice(5)) }, yAxis: { type: "value", minInterval: 1 },
        series: ["spam", "commercial", "suspect", "ham"].map((l) => ({ name: t(`label.${l}`), type: "bar", stack: "s", data: tr.days.map((d) => d[l] ?? 0) })),
      });
    } else document.getElementById("ch-sender").hidden = true;
  }).catch(() => {});
  const reload = () => renderCase(id).catch(fail);
  const claim = async () => { try { await api("POST", `/api/cases/${encodeURIComponent(id)}/claim`); toast(t("t.claimed")); reload(); } catch (e) { fail(e); } };
  const release = async () => { try { await api("POST", `/api/cases/${encodeURIComponent(id)}/release`); toast(t("t.released")); reload(); } catch (e) { fail(e); } };
  const decide = async (label) => {
    if (!c.claimedByMe) return;
    const body = { label, comment: document.getElementById("comment").value, wholeCampaign: document.getElementById("whole")?.checked ?? false };
    if (label === "spam") body.category = document.getElementById("category").value;
    try {
      await api("POST", `/api/cases/${encodeURIComponent(id)}/decide`, body);
      toast(t("t.decided"));
      // Claiming takes a case from the shared queue, so it happens only when the reviewer chose it.
      const next = claimNextAfter() ? await api("POST", "/api/queue/claim-next", {}).catch(() => ({ case: null })) : { case: null };
      go(next.case ? `/case/${encodeURIComponent(next.case.id)}` : "/queue");
    } catch (e) {
      fail(e);
      if (e.body?.error?.fields?.some((f) => f.path.endsWith("comment"))) document.getElementById("comment").focus();
    }
  };
  const reveal = async (field) => {
    const reason = prompt(t("c.reason"));
    if (!reason) return;
    try {
      const r = await api("POST", `/api/cases/${encodeURIComponent(id)}/reveal`, { field, reason });
      if (field === "sender") document.querySelector("[data-testid=case-sender]").textContent = r.sender;
      if (field === "text") document.querySelector("[data-testid=case-text]").textContent = r.text;
    } catch (e) { fail(e); }
  };
  document.getElementById("claim")?.addEventListener("click", claim);
  document.getElementById("release")?.addEventListener("click", release);
  document.getElementById("reveal-sender")?.addEventListener("click", () => reveal("sender"));
  document.getElementById("reveal-text")?.addEventListener("click", () => reveal("text"));
  view.querySelectorAll("[data-decide]").forEach((b) => b.addEventListener("click", () => decide(b.dataset.decide)));
  if (canDecide && open) {
    keyHandler = (e) => {
      const k = e.key.toLowerCase();
      if (k === "c" && !c.claimedByMe) claim();
      else if (k === "r" && c.claimedByMe) release();
      else if (k === "s") decide("spam");
      else if (k === "h") decide("ham");
      else if (k === "e") { if (!document.getElementById("comment").value.trim()) { e.preventDefault(); document.getElementById("comment").focus(); } else decide("escalate"); }
      else if (k === "/") { e.preventDefault(); document.getElementById("comment").focus(); }
      else if (/^[1-9]$/.test(k) && categories[Number(k) - 1]) document.getElementById("category").value = categories[Number(k) - 1];
      else if (k === "n") api("POST", "/api/queue/claim-next", {}).then((r) => r.case && go(`/case/${encodeURIComponent(r.case.id)}`), fail);
    };
  }
}

// ---- analytics --------------------------------------------------------------
function chart(node, option) {
  if (!window.echarts) return;
  const c = window.echarts.init(node);
  // Tooltips drawn on the canvas: ECharts' HTML tooltips would go through innerHTML and inline styles.
  const tooltip = option.tooltip ? { ...option.tooltip, renderMode: "richText" } : undefined;
  c.setOption({ textStyle: { fontFamily: "inherit" }, ...option, ...(tooltip ? { tooltip } : {}) });
  charts.push(c);
  node.dataset.rendered = "true";
  return c;
}
const noData = (node) => show(node, el("p", { class: "muted", dataset: { testid: "no-data" } }, t("a.noData")));

async function renderAnalytics() {
  const params = new URLSearchParams(location.search);
  const bucket = ["hour", "day", "month"].includes(params.get("bucket")) ? params.get("bucket") : "day";
  const [vol, rep, topS, topD, topC, outcome, rules, thr, delivery] = await Promise.all([
    api("GET", `/api/analytics/spam-volume?bucket=${bucket}${bucket === "month" ? `&from=${new Date(Date.now() - 365 * 864e5).toISOString()}` : ""}`),
    api("GET", "/api/analytics/reports"),
    api("GET", "/api/analytics/top-reported?kind=sender"),
    api("GET", "/api/analytics/top-reported?kind=domain"),
    api("GET", "/api/analytics/top-reported?kind=campaign"),
    api("GET", "/api/analytics/report-outcome"),
    api("GET", "/api/analytics/rules"),
    api("GET", "/api/analytics/throughput"),
    api("GET", "/api/delivery/summary"),
  ]);
  const top = (items) => table({}, ["", t("a.reportsN"), t("a.reporters")],
    items.map((i) => el("tr", {}, el("td", {}, i.key), el("td", {}, i.reports), el("td", {}, i.reporters))), t("a.noData"));
  const kpi = (label, value, testid) => el("div", { class: "kpi" }, el("span", { class: "muted" }, label), el("b", { dataset: { testid } }, value));
  const chartBox = (id) => el("div", { class: "chart", id: `ch-${id}`, dataset: { testid: `chart-${id}` } });
  const bucketSelect = el("select", { id: "bucket", onchange: (e) => go(`/analytics?bucket=${e.target.value}`) },
    ["hour", "day", "month"].map((b) => el("option", { value: b, selected: b === bucket }, t(`a.${b}`))));
  show(view,
    el("div", { class: "kpis" },
      kpi(t("a.decided"), outcome.decided, "kpi-decided"),
      kpi(t("a.p50"), outcome.p50Hours ?? "—"),
      kpi(t("a.p90"), outcome.p90Hours ?? "—"),
      kpi(t("a.within"), outcome.decided ? `${Math.round((outcome.withinSla / outcome.decided) * 100)}%` : "—"),
      kpi(t("a.overdue"), outcome.openOverdue),
      el("span", { class: "spacer" }),
      me.role !== "reviewer" ? el("a", { class: "kpi", href: "/api/export/fraud-cases.csv", download: "", dataset: { testid: "export" } }, t("a.export")) : null),
    el("div", { class: "card" }, el("h3", {}, t("a.relay")), el("div", { class: "kpis" },
      kpi(t("a.delivered"), delivery.delivered, "kpi-delivered"),
      kpi(t("a.stopped"), delivery.stopped, "kpi-stopped"),
      kpi(t("a.deferred"), delivery.deferred, "kpi-deferred"),
      kpi(t("a.failOpen"), delivery.failOpen, "kpi-fail-open"))),
    el("div", { class: "card" }, el("h3", {}, t("a.volume"), " ", bucketSelect), el("div", { class: "grid" }, chartBox("volume"), chartBox("action"))),
    el("div", { class: "grid2" },
      el("div", { class: "card" }, el("h3", {}, t("a.reports")), chartBox("reports")),
      el("div", { class: "card" }, el("h3", {}, t("a.throughput")), chartBox("throughput"))),
    el("div", { class: "card" }, el("h3", {}, t("a.rules")), chartBox("rules")),
    el("div", { class: "grid3" },
      el("div", { class: "card" }, el("h3", {}, `${t("a.top")} · ${t("a.sender")}`), el("div", { dataset: { testid: "top-senders" } }, top(topS.items))),
      el("div", { class: "card" }, el("h3", {}, `${t("a.top")} · ${t("a.domain")}`), top(topD.items)),
      el("div", { class: "card" }, el("h3", {}, `${t("a.top")} · ${t("a.campaign")}`), top(topC.items))),
  );

  const times = [...new Set(vol.points.map((p) => p.t))].sort();
  // Commercial messages are their own class: by category they are the "commercial" series, and by action
  // they stay apart from spam's actions (the operator's policy, not a spam verdict, chose theirs).
  const seriesKey = (key, p) => (key === "action" && p.label === "commercial" ? "commercial" : p[key]);
  const series = (key) => {
    const names = [...new Set(vol.points.map((p) => seriesKey(key, p)))];
    return names.map((n) => ({
      name: key === "category" ? cat(n) : n === "commercial" ? t("label.commercial") : named("action", n), type: "bar", stack: key, emphasis: { focus: "series" },
      data: times.map((tm) => vol.points.filter((p) => p.t === tm && seriesKey(key, p) === n).reduce((s, p) => s + p.count, 0)),
    }));
  };
  const axis = { type: "category", data: times.map((x) => x.slice(0, bucket === "month" ? 7 : bucket === "day" ? 10 : 16)) };
  const base = { tooltip: { trigger: "axis" }, legend: { type: "scroll" }, grid: { left: 50, right: 20, top: 40, bottom: 30 } };
  if (times.length) {
    chart(document.getElementById("ch-volume"), { ...base, xAxis: axis, yAxis: { type: "value" }, series: series("category") });
    chart(document.getElementById("ch-action"), { ...base, xAxis: axis, yAxis: { type: "value" }, series: series("action") });
  } else { noData(document.getElementById("ch-volume")); noData(document.getElementById("ch-action")); }

  if (rep.points.length) {
    chart(document.getElementById("ch-reports"), {
      ...base, xAxis: { type: "category", data: rep.points.map((p) => p.day) },
      yAxis: [{ type: "value" }, { type: "value", max: 1, axisLabel: { formatter: (v) => `${Math.round(v * 100)}%` } }],
      series: [{ name: t("a.reportsN"), type: "bar", data: rep.points.map((p) => p.reports) }, { name: t("a.verifiedShare"), type: "line", yAxisIndex: 1, data: rep.points.map((p) => p.shareVerified) }],
    });
  } else noData(document.getElementById("ch-reports"));

  if (thr.points.length) {
    const days = [...new Set(thr.points.map((p) => p.day))];
    const people = [...new Set(thr.points.map((p) => p.reviewer))];
    chart(document.getElementById("ch-throughput"), {
      ...base, xAxis: { type: "category", data: days }, yAxis: { type: "value", minInterval: 1 },
      series: people.map((r) => ({ name: r, type: "bar", stack: "r", data: days.map((d) => thr.points.find((p) => p.day === d && p.reviewer === r)?.decisions ?? 0) })),
    });
  } else noData(document.getElementById("ch-throughput"));

  const rs = rules.items.slice(0, 20);
  if (rs.length) {
    // Rule names are long ids: one row each on a vertical axis, the grid sized to hold them (containLabel), and the
    // chart as tall as its rows. A name longer than the label width ends in "…" and reads in full in the tooltip.
    const box = document.getElementById("ch-rules");
    box.style.height = `${Math.max(300, 90 + rs.length * 28)}px`;
    chart(box, {
      ...base, grid: { left: 10, right: 30, top: 70, bottom: 40, containLabel: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      yAxis: { type: "category", inverse: true, data: rs.map((r) => r.rule), axisLabel: { fontSize: 11, width: 360, overflow: "truncate" } },
      // Axis names centred along their axes: at the ends they would run off the canvas (containLabel leaves them out).
      xAxis: [{ type: "value", name: t("a.hits"), nameLocation: "middle", nameGap: 26, minInterval: 1 },
        { type: "value", name: t("a.precision"), nameLocation: "middle", nameGap: 26, max: 1, position: "top" }],
      series: [{ name: t("a.hits"), type: "bar", data: rs.map((r) => r.hits) }, { name: t("a.reviewed"), type: "bar", data: rs.map((r) => r.reviewed) },
        { name: t("a.precision"), type: "line", xAxisIndex: 1, data: rs.map((r) => r.precision) }],
    });
  } else noData(document.getElementById("ch-rules"));
}
window.addEventListener("resize", () => charts.forEach((c) => c.resize()));

// ---- audit ------------------------------------------------------------------
async function renderAudit() {
  const data = await api("GET", "/api/admin/audit?limit=200");
  show(view, el("div", { class: "card" }, el("h3", {}, t("audit.title")),
    table({ dataset: { testid: "audit-table" } }, [t("audit.at"), t("audit.user"), t("audit.action"), t("audit.target"), t("audit.reason")],
      data.items.map((a) => el("tr", {}, el("td", {}, fmtTime(a.at)), el("td", {}, a.username), el("td", {}, tag(named("act", a.action)), " ", el("code", { class: "muted" }, a.action)), el("td", {}, el("code", {}, a.target)), el("td", {}, a.reason))))));
}

// ---- models: registry (admins change it) and the shadow beside the live model -----------------
const pct = (x) => (x === null || x === undefined ? "—" : `${(x * 100).toFixed(1)} %`);
const fig = (m, k) => (m && typeof m[k] === "number" ? (Number.isInteger(m[k]) ? String(m[k]) : m[k].toFixed(3)) : "—");
async function renderModels() {
  const cards = [];
  if (me.role === "admin" || me.role === "analyst") {
    const reg = await api("GET", "/api/models").catch((e) => (e.status === 503 ? null : Promise.reject(e)));
    if (!reg) cards.push(el("div", { class: "card muted", dataset: { testid: "models-none" } }, t("m.none")));
    else {
      const reason = el("input", { id: "model-reason", placeholder: t("m.reason"), maxlength: "500" });
      const change = (path, body) => async () => {
        if (reason.value.trim().length < 3) { toast(t("m.reason")); reason.focus(); return; }
        try { const s = await api("POST", path, { ...body, reason: reason.value.trim() }); toast(s.announced ? t("m.told") : t("m.notTold")); renderModels().catch(fail); } catch (e) { fail(e); }
      };
      const admin = me.role === "admin";
      cards.push(el("div", { class: "card" }, el("h3", {}, t("m.title")),
        admin ? el("p", { class: "actions" }, reason, " ", el("button", { type: "button", dataset: { testid: "model-rollback" }, disabled: !reg.state.previous, onclick: change("/api/models/rollback", {}) }, t("m.rollback")),
          " ", el("button", { type: "button", disabled: !reg.state.shadow, onclick: change("/api/models/shadow", { id: null }) }, t("m.unshadow"))) : null,
        table({ dataset: { testid: "models-table" } }, [t("m.version"), t("m.state"), t("m.registered"), t("m.parent"), t("m.eval"), ""],
          reg.models.map((m) => el("tr", { dataset: { model: m.id } },
            el("td", {}, el("code", {}, m.id)),
            el("td", {}, m.live ? tag(t("m.live")) : m.shadow ? tag(t("m.shadow"), "overdue") : ""),
            el("td", {}, fmtTime(m.registeredAt)), el("td", {}, el("code", { class: "muted" }, m.parent ?? "—")),
            el("td", { class: "muted" }, Object.entries(m.metrics).map(([file, r]) => el("div", {}, `${file}: ${t("m.recall")} ${fig(r.candidate, "recall")} / ${fig(r.live, "recall")}, ${t("m.fpr")} ${fig(r.candidate, "ham_fpr")} / ${fig(r.live, "ham_fpr")}`))),
            el("td", { class: "actions" }, admin && !m.live ? [el("button", { type: "button", dataset: { testid: "model-promote" }, onclick: change("/api/models/promote", { id: m.id }) }, t("m.promote")),
              m.shadow ? null : el("button", { type: "button", onclick: change("/api/models/shadow", { id: m.id }) }, t("m.shadowIt"))] : null)))),
        el("h3", {}, t("m.history")),
        table({}, [t("audit.at"), t("audit.user"), t("audit.action"), t("m.from"), t("m.to")], reg.changes.map((c) => el("tr", {}, el("td", {}, fmtTime(c.at)), el("td", {}, c.by), el("td", {}, c.action), el("td", {}, el("code", {}, c.from ?? "—")), el("td", {}, el("code", {}, c.to ?? "—")))))));
    }
  }
  if (me.role === "admin" || me.role === "analyst") cards.push(backtestCard());
  const rep = await api("GET", "/api/models/shadow-report").catch((e) => (e.status === 503 ? null : Promise.reject(e)));
  if (rep) {
    cards.push(el("div", { class: "card" }, el("h3", {}, t("m.shadowTitle")),
      table({ dataset: { testid: "shadow-table" } }, [t("m.version"), t("m.scored"), t("m.liveCalled"), t("m.shadowCalled"), t("m.shadowOnly"), t("m.liveOnly"), t("m.precisionLive"), t("m.precisionShadow")],
        rep.models.map((m) => el("tr", {}, el("td", {}, el("code", {}, m.shadowModelVersion), m.shadowRulesetVersion ? [" + ", el("code", {}, `${t("m.rules")} ${m.shadowRulesetVersion}`)] : null), el("td", {}, m.scored), el("td", {}, m.liveCalled), el("td", {}, m.shadowCalled),
          el("td", {}, m.shadowOnly), el("td", {}, m.liveOnly), el("td", {}, pct(m.livePrecision)), el("td", {}, pct(m.shadowPrecision))))),
      el("h3", {}, t("m.disagreements")),
      table({ dataset: { testid: "shadow-disagreements" } }, [t("c.receivedAt"), t("col.sender"), t("m.liveSays"), t("m.shadowSays"), t("a.reviewed")],
        rep.disagreements.map((d) => el("tr", {}, el("td", {}, fmtTime(new Date(d.receivedAt).toISOString())), el("td", {}, el("code", {}, d.source)),
          el("td", {}, `${named("label", d.liveLabel)} ${d.liveScore.toFixed(2)}`), el("td", {}, `${named("label", d.shadowLabel)} ${d.shadowScore.toFixed(2)}`),
          el("td", {}, d.reviewed ? named("label", d.reviewed) : "—"))))));
  }
  show(view, ...cards);
}

/** Rule authors: what a candidate rule file would have hit in the stored traffic, before it goes live. */
function backtestCard() {
  const rules = el("textarea", { id: "bt-rules", rows: "8", placeholder: "rules:\n  - id: …", spellcheck: "false" });
  const days = el("input", { id: "bt-days", type: "number", min: "1", max: "30", value: "7" });
  const out = el("div", { dataset: { testid: "backtest-result" } });
  const run = async () => {
    show(out, el("p", { class: "muted" }, t("bt.running")));
    try {
      const r = await api("POST", "/api/rules/backtest", { rules: rules.value, days: Number(days.value) });
      show(out,
        el("p", {}, t("bt.summary", { n: r.scanned, h: r.hits, s: r.distinctSenders, c: r.campaigns, sec: r.seconds.toFixed(1) })),
        el("p", {}, t("bt.reviewed", { s: r.reviewedSpam, h: r.reviewedHam, p: pct(r.precisionEstimate), a: r.hitsLiveAllowed })),
        table({}, [t("a.rule"), t("a.hits"), t("bt.reviewedSpam"), t("bt.reviewedHam")], r.byRule.map((f) => el("tr", {}, el("td", {}, el("code", {}, f.ruleId)), el("td", {}, f.hits), el("td", {}, f.reviewedSpam), el("td", {}, f.reviewedHam)))),
        el("h3", {}, t("bt.samples")),
        table({}, [t("c.receivedAt"), t("col.sender"), t("a.rule"), t("col.preview")], r.samples.map((x) => el("tr", {}, el("td", {}, fmtTime(new Date(x.receivedAt).toISOString())), el("td", {}, el("code", {}, x.sender)),
          el("td", {}, x.rules.join(", ")), el("td", {}, x.text ?? el("span", { class: "muted" }, t("c.withheld")))))));
    } catch (e) { show(out, el("p", { class: "error" }, errorText(e))); }
  };
  return el("div", { class: "card" }, el("h3", {}, t("bt.title")), rules, el("p", { class: "actions" }, el("label", {}, t("bt.days"), " ", days), " ", el("button", { type: "button", dataset: { testid: "backtest-run" }, onclick: run }, t("bt.run"))), out);
}

// ---- sessions ---------------------------------------------------------------
function sessionTable(items, revoke, testid) {
  return table({ dataset: { testid } }, [t("s.created"), t("s.lastSeen"), t("s.expires"), t("s.ip"), t("s.agent"), ""],
    items.map((s) => el("tr", { dataset: { session: s.id } },
      el("td", {}, fmtTime(s.createdAt)), el("td", {}, fmtTime(s.lastSeenAt)), el("td", {}, fmtTime(s.expiresAt)),
      el("td", {}, s.ip), el("td", { class: "muted agent" }, s.userAgent),
      el("td", {}, s.current ? tag(t("s.current")) : el("button", { type: "button", dataset: { testid: "revoke-session" }, onclick: () => revoke(s) }, t("s.revoke"))))));
}

async function renderSessions() {
  const mine = await api("GET", "/api/sessions");
  const cards = [el("div", { class: "card" }, el("h3", {}, t("s.title")),
    sessionTable(mine.items, async (s) => { try { await api("DELETE", `/api/sessions/${encodeURIComponent(s.id)}`); toast(t("s.revoked")); renderSessions().catch(fail); } catch (e) { fail(e); } }, "my-sessions"))];
  const pwError = el("p", { class: "error", id: "password-error" });
  const pwForm = el("form", { class: "card password", id: "password-form" }, el("h3", {}, t("p.title")),
    el("label", {}, t("p.current"), " ", el("input", { name: "currentPassword", type: "password", autocomplete: "current-password", required: true })),
    el("label", {}, t("p.new"), " ", el("input", { name: "newPassword", type: "password", autocomplete: "new-password", minlength: "10", required: true })),
    el("button", { type: "submit" }, t("p.save")), pwError);
  pwForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    const f = new FormData(pwForm);
    try {
      await api("POST", "/api/auth/password", { currentPassword: f.get("currentPassword"), newPassword: f.get("newPassword") });
      toast(t("p.saved"));
      renderSessions().catch(fail);
    } catch (err) { pwError.textContent = errorText(err, { forbidden: t("err.wrongPassword") }); }
  });
  cards.push(pwForm);
  if (me.role === "admin") {
    const users = await api("GET", "/api/admin/users");
    const detail = el("div", { id: "user-sessions" });
    const showSessionsOf = async (u) => {
      const list = await api("GET", `/api/admin/users/${encodeURIComponent(u.username)}/sessions`);
      show(detail, el("h3", {}, `${u.username} · ${t("u.sessions")}`), sessionTable(list.items, async (s) => {
        try { await api("DELETE", `/api/admin/users/${encodeURIComponent(u.username)}/sessions/${encodeURIComponent(s.id)}`); toast(t("s.revoked")); await showSessionsOf(u); } catch (e) { fail(e); }
      }, "user-sessions-table"));
    };
    const act = (fn) => async () => { try { await fn(); } catch (e) { fail(e); } };
    cards.push(el("div", { class: "card" }, el("h3", {}, t("u.title")),
      table({ dataset: { testid: "users-table" } }, [t("u.user"), t("u.name"), t("u.role"), t("u.state"), ""], users.items.map((u) => el("tr", {},
        el("td", {}, el("code", {}, u.username)), el("td", {}, u.displayName), el("td", {}, named("role", u.role)),
        el("td", {}, u.disabled ? tag(t("u.disabled"), "overdue") : t("u.active")),
        el("td", { class: "actions" },
          el("button", { type: "button", onclick: act(() => showSessionsOf(u)) }, t("u.sessions")),
          el("button", { type: "button", onclick: act(async () => { const r = await api("DELETE", `/api/admin/users/${encodeURIComponent(u.username)}/sessions`); toast(t("u.ended", { n: r.ended })); }) }, t("u.endAll")),
          u.username === me.username ? null : el("button", { type: "button", class: u.disabled ? "" : "danger",
            onclick: act(async () => { await api("PATCH", `/api/admin/users/${encodeURIComponent(u.username)}`, { disabled: !u.disabled }); renderSessions().catch(fail); }) }, u.disabled ? t("u.enable") : t("u.disable")))))),
      detail));
  }
  show(view, ...cards);
}

route();
