// Review console: plain ES modules, no build step. Talks to the API with the session cookie.
import { CATEGORIES, getLang, setLang, t } from "./i18n.js";

const view = document.getElementById("view");
let me = null;
let keyHandler = null;
const charts = [];

const esc = (v) => String(v ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString(getLang() === "zh" ? "zh-CN" : "en-GB", { hour12: false }) : "");
const cat = (c) => (c ? t(`cat.${c}`) : "—");

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
  const el = document.getElementById("toast");
  el.textContent = msg;
  el.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => (el.hidden = true), 3500);
}
const fail = (e) => toast(`${t("err.generic")}: ${e.message}`);

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
  document.querySelectorAll("[data-i18n]").forEach((el) => (el.textContent = t(el.dataset.i18n)));
  document.getElementById("lang").textContent = getLang() === "zh" ? "EN" : "中文";
  document.title = `${t("brand")} · 10086999`;
}
document.getElementById("lang").addEventListener("click", () => { setLang(getLang() === "zh" ? "en" : "zh"); applyStatic(); route(); });
document.getElementById("logout").addEventListener("click", async () => { await api("POST", "/api/auth/logout").catch(() => {}); me = null; go("/login"); });

function chrome() {
  const top = document.getElementById("top");
  top.hidden = !me;
  if (!me) return;
  document.getElementById("whoami").textContent = `${me.displayName} (${me.role})`;
  top.querySelectorAll("[data-role]").forEach((el) => (el.hidden = el.dataset.role !== me.role));
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
    if (p.startsWith("/case/")) return await renderCase(decodeURIComponent(p.slice(6)));
    if (p === "/analytics") return await renderAnalytics();
    if (p === "/audit") return await renderAudit();
    if (p === "/" ) return go(me.role === "analyst" ? "/analytics" : "/queue", true);
    return await renderQueue();
  } catch (e) {
    if (e.status !== 401) view.innerHTML = `<div class="card error">${esc(e.message)}</div>`;
  }
}

document.addEventListener("keydown", (e) => {
  if (!keyHandler || e.ctrlKey || e.metaKey || e.altKey) return;
  if (["INPUT", "TEXTAREA", "SELECT"].includes(document.activeElement?.tagName)) { if (e.key === "Escape") document.activeElement.blur(); return; }
  keyHandler(e);
});

// ---- login ----------------------------------------------------------------
function renderLogin() {
  chrome();
  view.innerHTML = `<form class="card login" id="login-form">
    <h3>${t("login.title")}</h3>
    <label for="username">${t("login.user")}</label><input id="username" name="username" autocomplete="username" required>
    <label for="password">${t("login.pass")}</label><input id="password" name="password" type="password" autocomplete="current-password" required>
    <p class="error" id="login-error"></p>
    <button class="primary" type="submit" id="login-submit">${t("login.go")}</button>
    <button type="button" id="login-lang" style="float:right">${getLang() === "zh" ? "English" : "中文"}</button>
  </form>`;
  document.getElementById("login-lang").onclick = () => { setLang(getLang() === "zh" ? "en" : "zh"); renderLogin(); };
  document.getElementById("username").focus();
  document.getElementById("login-form").onsubmit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    try {
      const res = await api("POST", "/api/auth/login", { username: f.get("username"), password: f.get("password") });
      me = res.user;
      go(me.role === "analyst" ? "/analytics" : "/queue");
    } catch (err) {
      document.getElementById("login-error").textContent = err.status === 429 ? t("login.rate") : t("login.bad");
    }
  };
}

// ---- queue ----------------------------------------------------------------
async function renderQueue() {
  const params = new URLSearchParams(location.search);
  const q = new URLSearchParams();
  for (const k of ["status", "source", "category", "minAgeHours"]) if (params.get(k)) q.set(k, params.get(k));
  q.set("limit", "100");
  const data = await api("GET", `/api/queue?${q}`);
  const canDecide = me.role !== "analyst";
  const opt = (name, values, labeler) => `<select name="${name}">${["", ...values].map((v) => `<option value="${v}" ${params.get(name) === v ? "selected" : ""}>${v ? labeler(v) : t("q.all")}</option>`).join("")}</select>`;
  view.innerHTML = `
  <div class="card">
    <form class="filters" id="filters">
      <strong>${t("q.title")}</strong><span class="muted" data-testid="queue-total">${t("q.total", { n: data.total })}</span>
      <label>${t("q.status")} <select name="status"><option value="open">${t("q.open")}</option><option value="escalated" ${params.get("status") === "escalated" ? "selected" : ""}>${t("q.escalated")}</option></select></label>
      <label>${t("q.source")} ${opt("source", ["classifier", "report", "campaign"], (v) => t(`src.${v}`))}</label>
      <label>${t("q.category")} ${opt("category", CATEGORIES, cat)}</label>
      <label>${t("q.minAge")} <input name="minAgeHours" type="number" min="0" style="width:70px" value="${esc(params.get("minAgeHours") ?? "")}"></label>
      <button type="submit">${t("q.apply")}</button>
      <span class="spacer"></span>
      ${canDecide ? `<button class="primary" type="button" id="claim-next" data-testid="claim-next">${t("q.next")} <kbd>N</kbd></button>` : ""}
    </form>
    <table data-testid="queue-table"><thead><tr>
      <th>${t("col.priority")}</th><th>${t("col.kind")}</th><th>${t("col.sender")}</th><th>${t("col.preview")}</th><th>${t("q.category")}</th>
      <th>${t("col.score")}</th><th>${t("col.reach")}</th><th>${t("col.age")}</th><th>${t("col.sla")}</th><th>${t("col.claim")}</th></tr></thead>
    <tbody>${data.items.map((c) => `<tr class="row" data-case="${esc(c.id)}" data-testid="queue-row">
      <td>${c.priority?.toFixed(2) ?? ""}</td><td><span class="tag">${t(`kind.${c.kind}`)}</span></td>
      <td data-testid="masked-sender">${esc(c.sender)}</td><td>${c.preview === null ? `<span class="withheld">${t("c.withheld")}</span>` : esc(c.preview)}</td>
      <td>${cat(c.category)}</td><td>${c.score.toFixed(2)}</td><td>${c.recipients} / ${c.reports}</td><td>${c.ageHours} h</td>
      <td>${c.slaRemainingHours === null ? "" : `<span class="tag ${c.slaRemainingHours < 0 ? "overdue" : c.slaRemainingHours < 12 ? "soon" : ""}">${c.slaRemainingHours} h</span>`}</td>
      <td>${esc(c.claimedBy ?? "")}</td></tr>`).join("") || `<tr><td colspan="10" class="muted">${t("q.none")}</td></tr>`}</tbody></table>
  </div>`;
  document.getElementById("filters").onsubmit = (e) => {
    e.preventDefault();
    const f = new URLSearchParams();
    for (const [k, v] of new FormData(e.target)) if (v) f.set(k, v);
    go(`/queue?${f}`);
  };
  view.querySelectorAll("tr[data-case]").forEach((tr) => (tr.onclick = () => go(`/case/${encodeURIComponent(tr.dataset.case)}`)));
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
async function renderCase(id) {
  const c = await api("GET", `/api/cases/${encodeURIComponent(id)}`);
  const canDecide = me.role !== "analyst";
  const open = c.status !== "decided";
  const maxAbs = Math.max(0.0001, ...c.contributions.map((x) => Math.abs(x.score)));
  view.innerHTML = `
  <p><a href="/queue" data-link>← ${t("c.back")}</a></p>
  <div class="grid">
    <div>
      <div class="card">
        <h3>${t(`kind.${c.kind}`)} · <span data-testid="case-sender">${esc(c.sender)}</span>
          ${canDecide ? `<button type="button" id="reveal-sender" data-testid="reveal-sender">${t("c.reveal")}</button>` : ""}
          <span class="tag ${esc(c.modelLabel ?? "")}">${esc(c.modelLabel ? t(`label.${c.modelLabel}`) : "")}</span>
          <span class="muted">${t("col.score")} ${c.score.toFixed(2)} · ${cat(c.category)} · ${c.recipients} / ${c.reports}</span></h3>
        <div class="msg" data-testid="case-text">${c.text === null ? `<span class="withheld">${t("c.withheld")}</span>` : esc(c.text)}</div>
        ${c.canRevealText || (canDecide && c.text !== null) ? `<p><button type="button" id="reveal-text">${t("c.revealText")}</button></p>` : ""}
      </div>
      <div class="card"><h3>${t("c.why")}</h3>
        <table>${c.contributions.map((x) => `<tr><td>${x.source === "rule" ? "规则/rule" : "模型/model"}</td><td><code>${esc(x.id)}</code></td>
          <td><span class="bar ${x.score < 0 ? "neg" : ""}" style="width:${Math.round((Math.abs(x.score) / maxAbs) * 120)}px"></span> ${x.score.toFixed(2)}</td><td>${cat(x.category)}</td><td class="muted">${esc(x.detail ?? "")}</td></tr>`).join("") || `<tr><td class="muted">${t("c.none")}</td></tr>`}</table>
      </div>
      <div class="card"><h3>${t("c.reports")} (${c.reportList.length})</h3>
        <table><tr><th>${t("c.receivedAt")}</th><th>${t("c.reporter")}</th><th>${t("col.preview")}</th><th>${t("c.verification")}</th><th>${t("c.outcome")}</th></tr>
        ${c.reportList.map((r) => `<tr><td>${fmtTime(r.receivedAt)}</td><td data-testid="masked-reporter">${esc(r.reporter)}</td><td>${esc(r.content ?? "")}</td><td><span class="tag">${esc(r.verification)}</span></td><td>${esc(r.outcome ?? "")}</td></tr>`).join("")}</table>
      </div>
      ${c.campaign ? `<div class="card"><h3>${t("c.campaign")} <code>${esc(c.campaign.id)}</code> · ${t("c.members", { n: c.campaign.members, o: c.campaign.open })}</h3>
        ${c.campaign.samples.map((s) => `<div class="msg" style="font-size:13px;margin-bottom:6px">${esc(s)}</div>`).join("")}</div>` : ""}
    </div>
    <div>
      <div class="card" id="decide-card"><h3>${c.decision ? t("c.decided", { l: t(`label.${c.decision.label}`) }) : c.claimedByMe ? t("c.mine") : c.claimedBy ? t("c.claimedBy", { u: c.claimedBy }) : ""}</h3>
        ${c.decision ? `<p>${cat(c.decision.category)} · ${esc(c.decision.by ?? "")} · ${fmtTime(c.decision.at)}</p><p class="muted">${esc(c.decision.comment ?? "")}</p>` : ""}
        ${canDecide && open ? `
        <div class="actions">
          ${c.claimedByMe ? `<button type="button" id="release">${t("c.release")} <kbd>R</kbd></button>` : `<button class="primary" type="button" id="claim" data-testid="claim">${t("c.claim")} <kbd>C</kbd></button>`}
        </div>
        <p><label>${t("q.category")} <select id="category" data-testid="category">${CATEGORIES.map((k, i) => `<option value="${k}" ${c.category === k ? "selected" : ""}>${i + 1}. ${cat(k)}</option>`).join("")}</select></label></p>
        <textarea id="comment" placeholder="${t("c.comment")}" data-testid="comment"></textarea>
        ${c.campaignId ? `<p><label><input type="checkbox" id="whole" ${c.kind === "campaign" ? "checked" : ""}> ${t("c.wholeCampaign")}</label></p>` : ""}
        <div class="actions">
          <button class="danger" type="button" data-decide="spam" data-testid="decide-spam" ${c.claimedByMe ? "" : "disabled"}>${t("c.spam")} <kbd>S</kbd></button>
          <button class="ok" type="button" data-decide="ham" data-testid="decide-ham" ${c.claimedByMe ? "" : "disabled"}>${t("c.ham")} <kbd>H</kbd></button>
          <button type="button" data-decide="escalate" data-testid="decide-escalate" ${c.claimedByMe ? "" : "disabled"}>${t("c.escalate")} <kbd>E</kbd></button>
        </div>
        <p class="muted">${t("c.keys")}: <kbd>C</kbd> ${t("c.claim")} · <kbd>S</kbd>/<kbd>H</kbd>/<kbd>E</kbd> · <kbd>1</kbd>–<kbd>7</kbd> ${t("q.category")} · <kbd>/</kbd> ${t("c.comment").split(/[（(]/)[0]} · <kbd>N</kbd> ${t("q.next")} · <kbd>R</kbd> ${t("c.release")}</p>` : ""}
      </div>
      <div class="card" id="traffic-card" hidden><h3>${t("c.traffic")}</h3><p class="muted" id="traffic-summary"></p><div class="chart" style="height:160px" id="ch-sender" data-testid="chart-sender"></div></div>
      <div class="card"><h3>${t("c.history")}</h3>
        <table>${c.senderHistory.map((h) => `<tr><td><a href="/case/${encodeURIComponent(h.id)}" data-link>${t(`kind.${h.kind}`)}</a></td><td>${fmtTime(h.openedAt)}</td><td>${h.decision ? `<span class="tag ${h.decision}">${t(`label.${h.decision}`)}</span>` : esc(h.status)}</td><td>${cat(h.category)}</td></tr>`).join("") || `<tr><td class="muted">${t("c.none")}</td></tr>`}</table>
      </div>
    </div>
  </div>`;

  api("GET", `/api/cases/${encodeURIComponent(id)}/sender-traffic`).then((tr) => {
    if (!tr || !document.getElementById("traffic-card")) return;
    document.getElementById("traffic-card").hidden = false;
    document.getElementById("traffic-summary").textContent = t("c.trafficSummary", { m: tr.messages, r: tr.recipients }) +
      (tr.block ? ` · ${t("c.block")}: ${tr.block.state} (${tr.block.createdBy})` : "");
    if (tr.days.length) {
      chart(document.getElementById("ch-sender"), {
        tooltip: { trigger: "axis" }, grid: { left: 36, right: 8, top: 10, bottom: 24 },
        xAxis: { type: "category", data: tr.days.map((d) => d.day.slice(5)) }, yAxis: { type: "value", minInterval: 1 },
        series: ["spam", "suspect", "ham"].map((l) => ({ name: t(`label.${l}`), type: "bar", stack: "s", data: tr.days.map((d) => d[l]) })),
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
      const next = await api("POST", "/api/queue/claim-next", {}).catch(() => ({ case: null }));
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
  view.querySelectorAll("[data-decide]").forEach((b) => (b.onclick = () => decide(b.dataset.decide)));
  if (canDecide && open) {
    keyHandler = (e) => {
      const k = e.key.toLowerCase();
      if (k === "c" && !c.claimedByMe) claim();
      else if (k === "r" && c.claimedByMe) release();
      else if (k === "s") decide("spam");
      else if (k === "h") decide("ham");
      else if (k === "e") { if (!document.getElementById("comment").value.trim()) { e.preventDefault(); document.getElementById("comment").focus(); } else decide("escalate"); }
      else if (k === "/") { e.preventDefault(); document.getElementById("comment").focus(); }
      else if (/^[1-7]$/.test(k)) document.getElementById("category").value = CATEGORIES[Number(k) - 1];
      else if (k === "n") api("POST", "/api/queue/claim-next", {}).then((r) => r.case && go(`/case/${encodeURIComponent(r.case.id)}`), fail);
    };
  }
}

// ---- analytics --------------------------------------------------------------
function chart(el, option) {
  if (!window.echarts) return;
  const c = window.echarts.init(el);
  c.setOption({ textStyle: { fontFamily: "inherit" }, ...option });
  charts.push(c);
  el.dataset.rendered = "true";
  return c;
}
const noData = (el) => { el.innerHTML = `<p class="muted" data-testid="no-data">${t("a.noData")}</p>`; };

async function renderAnalytics() {
  const params = new URLSearchParams(location.search);
  const bucket = params.get("bucket") ?? "day";
  const [vol, rep, topS, topD, topC, outcome, rules, thr] = await Promise.all([
    api("GET", `/api/analytics/spam-volume?bucket=${bucket}${bucket === "month" ? `&from=${new Date(Date.now() - 365 * 864e5).toISOString()}` : ""}`),
    api("GET", "/api/analytics/reports"),
    api("GET", "/api/analytics/top-reported?kind=sender"),
    api("GET", "/api/analytics/top-reported?kind=domain"),
    api("GET", "/api/analytics/top-reported?kind=campaign"),
    api("GET", "/api/analytics/report-outcome"),
    api("GET", "/api/analytics/rules"),
    api("GET", "/api/analytics/throughput"),
  ]);
  const top = (items) => `<table><tr><th></th><th>${t("a.reportsN")}</th><th>${t("a.reporters")}</th></tr>${items.map((i) => `<tr><td>${esc(i.key)}</td><td>${i.reports}</td><td>${i.reporters}</td></tr>`).join("") || `<tr><td class="muted">${t("a.noData")}</td></tr>`}</table>`;
  view.innerHTML = `
  <div class="kpis">
    <div class="kpi"><span class="muted">${t("a.decided")}</span><b data-testid="kpi-decided">${outcome.decided}</b></div>
    <div class="kpi"><span class="muted">${t("a.p50")}</span><b>${outcome.p50Hours ?? "—"}</b></div>
    <div class="kpi"><span class="muted">${t("a.p90")}</span><b>${outcome.p90Hours ?? "—"}</b></div>
    <div class="kpi"><span class="muted">${t("a.within")}</span><b>${outcome.decided ? Math.round((outcome.withinSla / outcome.decided) * 100) + "%" : "—"}</b></div>
    <div class="kpi"><span class="muted">${t("a.overdue")}</span><b>${outcome.openOverdue}</b></div>
    <span class="spacer"></span>
    ${me.role !== "reviewer" ? `<a class="kpi" href="/api/export/fraud-cases.csv" download data-testid="export">${t("a.export")}</a>` : ""}
  </div>
  <div class="card"><h3>${t("a.volume")} <select id="bucket">${["hour", "day", "month"].map((b) => `<option value="${b}" ${b === bucket ? "selected" : ""}>${t(`a.${b}`)}</option>`).join("")}</select></h3>
    <div class="grid"><div class="chart" id="ch-volume" data-testid="chart-volume"></div><div class="chart" id="ch-action" data-testid="chart-action"></div></div></div>
  <div class="grid2">
    <div class="card"><h3>${t("a.reports")}</h3><div class="chart" id="ch-reports" data-testid="chart-reports"></div></div>
    <div class="card"><h3>${t("a.throughput")}</h3><div class="chart" id="ch-throughput" data-testid="chart-throughput"></div></div>
  </div>
  <div class="card"><h3>${t("a.rules")}</h3><div class="chart" id="ch-rules" data-testid="chart-rules"></div></div>
  <div class="grid2" style="grid-template-columns:1fr 1fr 1fr">
    <div class="card"><h3>${t("a.top")} · ${t("a.sender")}</h3><div data-testid="top-senders">${top(topS.items)}</div></div>
    <div class="card"><h3>${t("a.top")} · ${t("a.domain")}</h3>${top(topD.items)}</div>
    <div class="card"><h3>${t("a.top")} · ${t("a.campaign")}</h3>${top(topC.items)}</div>
  </div>`;
  document.getElementById("bucket").onchange = (e) => go(`/analytics?bucket=${e.target.value}`);

  const times = [...new Set(vol.points.map((p) => p.t))].sort();
  const series = (key) => {
    const names = [...new Set(vol.points.map((p) => p[key]))];
    return names.map((n) => ({
      name: key === "category" ? cat(n) : n, type: "bar", stack: key, emphasis: { focus: "series" },
      data: times.map((tm) => vol.points.filter((p) => p.t === tm && p[key] === n).reduce((s, p) => s + p.count, 0)),
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
    chart(document.getElementById("ch-rules"), {
      ...base, xAxis: { type: "category", data: rs.map((r) => r.rule), axisLabel: { rotate: 30, fontSize: 10 } },
      yAxis: [{ type: "value", name: t("a.hits") }, { type: "value", name: t("a.precision"), max: 1 }],
      series: [{ name: t("a.hits"), type: "bar", data: rs.map((r) => r.hits) }, { name: t("a.reviewed"), type: "bar", data: rs.map((r) => r.reviewed) },
        { name: t("a.precision"), type: "line", yAxisIndex: 1, data: rs.map((r) => r.precision) }],
    });
  } else noData(document.getElementById("ch-rules"));
}
window.addEventListener("resize", () => charts.forEach((c) => c.resize()));

// ---- audit ------------------------------------------------------------------
async function renderAudit() {
  const data = await api("GET", "/api/admin/audit?limit=200");
  view.innerHTML = `<div class="card"><h3>${t("audit.title")}</h3><table data-testid="audit-table">
    <tr><th>${t("audit.at")}</th><th>${t("audit.user")}</th><th>${t("audit.action")}</th><th>${t("audit.target")}</th><th>${t("audit.reason")}</th></tr>
    ${data.items.map((a) => `<tr><td>${fmtTime(a.at)}</td><td>${esc(a.username)}</td><td><span class="tag">${esc(a.action)}</span></td><td><code>${esc(a.target)}</code></td><td>${esc(a.reason)}</td></tr>`).join("")}</table></div>`;
}

route();
