// pyop teaching dashboard: plain JS, no build step. State arrives over server-sent events
// (/events): a snapshot first, then changes. Nothing here polls the server.
"use strict";

const ROW = 24;            // px, must match --row in style.css
const MAX_ROWS = 20000;    // rows kept per chain in the page (the server keeps as many)
const OVERSCAN = 8;

const S = {
  config: {}, heads: {}, l1: new Map(), l2: new Map(),
  l1lo: null, l1hi: null, l2lo: null, l2hi: null,
  history: [], scenarios: {}, procs: [], selected: null,
  span: 300, connected: false,
};
// figures for tests and the load bench: latency of each pushed update until rendered
const stats = { events: 0, latencies: [], lastRender: 0, renders: 0 };
window.pyopDash = { S, stats };

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" }[c]));
const short = (h) => (h ? h.slice(0, 10) + "…" : "");
const num = (r) => (r && r.number !== undefined ? r.number : null);
const fmtAgo = (s) => (s < 90 ? `${Math.round(s)} s` : s < 5400 ? `${Math.round(s / 60)} min` : `${(s / 3600).toFixed(1)} h`);
const specUrl = (p) => {
  // pipeline spec references are relative to specs/protocol/ ("derivation.md#batch-queue")
  if (!p) return "";
  if (p.startsWith("http")) return p;
  let [page, anchor] = p.split("#");
  page = page.replace(/\.md$/, ".html");
  page = page.startsWith("../") ? page.slice(3) : "protocol/" + page;
  return "https://specs.optimism.io/" + page + (anchor ? "#" + anchor : "");
};

// ------------------------------------------------------------------ rows

function putRows(chain, rows) {
  const m = chain === "l1" ? S.l1 : S.l2;
  for (const r of rows) m.set(r.n, r);
  let lo = chain === "l1" ? S.l1lo : S.l2lo, hi = chain === "l1" ? S.l1hi : S.l2hi;
  for (const r of rows) {
    if (lo === null || r.n < lo) lo = r.n;
    if (hi === null || r.n > hi) hi = r.n;
  }
  while (hi - lo + 1 > MAX_ROWS) { m.delete(lo); lo++; }
  if (chain === "l1") { S.l1lo = lo; S.l1hi = hi; } else { S.l2lo = lo; S.l2hi = hi; }
}

function truncate(chain, above) {
  const m = chain === "l1" ? S.l1 : S.l2;
  const hi = chain === "l1" ? S.l1hi : S.l2hi;
  if (hi === null) return;
  for (let n = above + 1; n <= hi; n++) m.delete(n);
  const nh = Math.max(above, (chain === "l1" ? S.l1lo : S.l2lo) - 1);
  if (chain === "l1") S.l1hi = nh; else S.l2hi = nh;
}

function l2state(n) {
  const l2 = S.heads.l2 || {};
  if (l2.finalized && n <= l2.finalized.number) return "finalized";
  if (l2.safe && n <= l2.safe.number) return "safe";
  return "unsafe";
}

// ------------------------------------------------------------------ virtual lists

class VList {
  constructor(el, chain) {
    this.el = el; this.chain = chain; this.spacer = el.querySelector(".spacer");
    this.count = 0; this.hi = null;
    el.addEventListener("scroll", () => schedule());
    el.addEventListener("click", (e) => {
      const row = e.target.closest(".row");
      if (row) select(chain, Number(row.dataset.n));
    });
  }
  sync() {
    const lo = this.chain === "l1" ? S.l1lo : S.l2lo, hi = this.chain === "l1" ? S.l1hi : S.l2hi;
    const count = hi === null ? 0 : hi - lo + 1;
    // newest on top: keep the rows the reader looks at in place when blocks arrive
    if (this.hi !== null && hi !== null && this.el.scrollTop > 0) {
      this.el.scrollTop += (hi - this.hi) * ROW;
    }
    this.hi = hi; this.count = count;
    this.spacer.style.height = count * ROW + "px";
  }
  visible() {
    const top = this.el.scrollTop, h = this.el.clientHeight;
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.min(this.count - 1, Math.ceil((top + h) / ROW) + OVERSCAN);
    return [first, last];
  }
  numberAt(i) { return this.hi - i; }
  yOf(n) { return (this.hi - n) * ROW - this.el.scrollTop + ROW / 2; }
  render() {
    const [first, last] = this.visible();
    const parts = [];
    for (let i = first; i <= last; i++) {
      const n = this.numberAt(i);
      parts.push(this.chain === "l1" ? l1Row(n, i) : l2Row(n, i));
    }
    this.spacer.innerHTML = parts.join("");
  }
}

function l2Row(n, i) {
  const r = S.l2.get(n);
  const top = `style="top:${i * ROW}px"`;
  if (!r) return `<div class="row missing" ${top} data-n="${n}">#${n}</div>`;
  const sel = S.selected && S.selected.chain === "l2" && S.selected.n === n ? " sel" : "";
  const hl = S.hl && S.hl.l2.has(n) ? " hl" : "";
  let tags = `<span class="tag org" title="L1 origin (epoch)">L1 #${r.o}${r.sq ? "+" + r.sq : ""}</span>`;
  if (r.tx) tags += `<span class="tag">${r.tx} tx</span>`;
  if (r.dep && r.dep.length) tags += `<span class="tag dep" title="user deposits from L1">⬇ ${r.dep.length} from L1 #${r.dep[0][0]}</span>`;
  if (r.b != null) tags += `<span class="tag batch" title="batch posted in L1 block">batch L1 #${r.b}</span>`;
  if (r.pr != null) tags += `<span class="tag prop" title="output proposal in L1 block">output L1 #${r.pr}</span>`;
  return `<div class="row ${l2state(n)}${sel}${hl}" ${top} data-n="${n}" data-state="${l2state(n)}"><span class="num">#${n}</span> <span class="hash">${short(r.h)}</span>${tags}</div>`;
}

function l1Row(n, i) {
  const r = S.l1.get(n);
  const top = `style="top:${i * ROW}px"`;
  if (!r) return `<div class="row missing l1" ${top} data-n="${n}">#${n}</div>`;
  const sel = S.selected && S.selected.chain === "l1" && S.selected.n === n ? " sel" : "";
  const hl = S.hl && S.hl.l1.has(n) ? " hl" : "";
  let tags = "";
  for (const bt of r.bt) {
    const frames = bt.frames.length;
    const rng = bt.l2 ? `→ L2 #${bt.l2[0]}${bt.l2[1] !== bt.l2[0] ? "–" + bt.l2[1] : ""}` : "(channel open)";
    tags += `<span class="tag batch${bt.err ? " err" : ""}" title="batcher tx ${esc(bt.h)}: ${esc(bt.kind)}, channels ${esc(bt.ch.join(", "))}${bt.err ? " – " + esc(bt.err) : ""}">${bt.kind} ${frames}f ch ${bt.ch.map((c) => c.slice(2, 6)).join(",")} ${rng}</span>`;
  }
  for (const d of r.dep) tags += `<span class="tag dep" title="deposit ${esc(d.h)}">deposit ${(Number(d.mint) / 1e18).toFixed(3)} ETH → ${d.l2 != null ? "L2 #" + d.l2 : "pending"}</span>`;
  for (const p of r.pr) tags += `<span class="tag prop" title="${esc(p.kind)} ${esc(p.root)}">output → L2 #${p.l2}</span>`;
  if (r.sh != null) tags += `<span class="tag org" title="optimism_safeHeadAtL1Block: L2 safe head after deriving this L1 block">safe L2 #${r.sh}</span>`;
  return `<div class="row l1${sel}${hl}" ${top} data-n="${n}"><span class="num">#${n}</span> <span class="hash">${short(r.h)}</span>${tags}</div>`;
}

// ------------------------------------------------------------------ selection and links

function select(chain, n) {
  S.selected = { chain, n };
  const hl = { l1: new Set(), l2: new Set() };
  let text = "";
  if (chain === "l2") {
    const r = S.l2.get(n);
    if (r) {
      hl.l1.add(r.o);
      if (r.b != null) hl.l1.add(r.b);
      if (r.pr != null) hl.l1.add(r.pr);
      for (const [l1n] of r.dep) hl.l1.add(l1n);
      text = `L2 block #${n} (${l2state(n)})\nhash ${r.h}\nparent ${r.p}\ntimestamp ${r.t}\n` +
        `L1 origin #${r.o} ${r.oh} (sequence number ${r.sq})\nuser txs ${r.tx}\n` +
        `batch data in L1 block ${r.b != null ? "#" + r.b : "— not posted yet"}\n` +
        (r.dep.length ? `deposits: ${r.dep.map((d) => `L1 #${d[0]} → ${d[1]}`).join(", ")}\n` : "") +
        (r.pr != null ? `output proposal in L1 #${r.pr}\n` : "");
      $("exblock").value = n;
    }
  } else {
    const r = S.l1.get(n);
    if (r) {
      for (const row of S.l2.values()) if (row.o === n) hl.l2.add(row.n);
      for (const bt of r.bt) if (bt.l2) for (let m = bt.l2[0]; m <= bt.l2[1]; m++) hl.l2.add(m);
      for (const d of r.dep) if (d.l2 != null) hl.l2.add(d.l2);
      for (const p of r.pr) hl.l2.add(p.l2);
      text = `L1 block #${n}\nhash ${r.h}\ntimestamp ${r.t}\ntransactions ${r.txs}\n` +
        r.bt.map((bt) => `batcher tx ${bt.h} (${bt.kind})\n  frames ${bt.frames.map((f) => `${f[0].slice(0, 10)}#${f[1]}${f[2] ? "(last)" : ""} ${f[3]}B`).join(", ")}\n  L2 blocks ${bt.l2 ? bt.l2.join("–") : "(channel not complete yet)"}${bt.err ? "\n  " + bt.err : ""}`).join("\n") + (r.bt.length ? "\n" : "") +
        r.dep.map((d) => `deposit ${d.h}: ${(Number(d.mint) / 1e18)} ETH from ${d.from} → L2 tx ${d.l2tx} in L2 block ${d.l2 != null ? "#" + d.l2 : "(not yet)"}`).join("\n") + (r.dep.length ? "\n" : "") +
        r.pr.map((p) => `output proposal (${p.kind}) for L2 block #${p.l2}: root ${p.root}, tx ${p.h}`).join("\n") +
        (r.sh != null ? `\nsafe L2 head after deriving this block: #${r.sh}` : "");
    }
  }
  S.hl = hl;
  $("detail").textContent = text || `#${n}: not loaded`;
  schedule();
}

function drawLinks() {
  const c = $("links"), ctx = c.getContext("2d");
  const w = c.clientWidth, h = c.clientHeight, dpr = window.devicePixelRatio || 1;
  if (c.width !== w * dpr || c.height !== h * dpr) { c.width = w * dpr; c.height = h * dpr; }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  if (!L1.count || !L2.count) return;
  const off = L1.el.offsetTop - c.offsetTop;
  const [f2, l2] = L2.visible();
  const curve = (y1, y2, color, width) => {
    if ((y1 < -ROW && y2 < -ROW) || (y1 > h + ROW && y2 > h + ROW)) return;
    ctx.strokeStyle = color; ctx.lineWidth = width;
    ctx.beginPath(); ctx.moveTo(0, y1 + off);
    ctx.bezierCurveTo(w / 2, y1 + off, w / 2, y2 + off, w, y2 + off); ctx.stroke();
  };
  const clampY = (y) => Math.max(-ROW, Math.min(h + ROW, y));
  for (let i = f2; i <= l2; i++) {
    const n = L2.numberAt(i), r = S.l2.get(n);
    if (!r) continue;
    const y2 = L2.yOf(n);
    const hl = S.hl && S.hl.l2.has(n);
    if (r.o >= 0) curve(clampY(L1.yOf(r.o)), y2, hl ? "rgba(60,60,60,.7)" : "rgba(120,120,120,.18)", hl ? 1.5 : 1);
    if (r.b != null) curve(clampY(L1.yOf(r.b)), y2, hl ? "rgba(47,111,214,.9)" : "rgba(47,111,214,.25)", hl ? 2 : 1);
    for (const [l1n] of r.dep) curve(clampY(L1.yOf(l1n)), y2, "rgba(30,158,90,.9)", 2);
    if (r.pr != null) curve(clampY(L1.yOf(r.pr)), y2, "rgba(142,68,173,.8)", 1.5);
  }
}

// ------------------------------------------------------------------ heads, chart, why

function setHeads(h) {
  S.heads = h;
  const l1 = h.l1 || {}, l2 = h.l2 || {};
  const set = (id, v) => { const e = $(id); const t = v == null ? "-" : String(v); if (e.textContent !== t) e.textContent = t; };
  set("h-l1", num(l1.head)); set("h-l1s", num(l1.safe)); set("h-l1f", num(l1.finalized));
  set("h-unsafe", num(l2.unsafe)); set("h-safe", num(l2.safe)); set("h-finalized", num(l2.finalized));
  const w = h.window || {};
  const cfg = S.config;
  if (l2.unsafe) {
    const d = w.drift != null ? `; its timestamp is ${w.drift} s past the origin's (max sequencer drift ${w.maxDrift} s)` : "";
    $("why-unsafe").textContent = `#${l2.unsafe.number}: built by the sequencer every ${cfg.l2BlockTime} s on L1 origin #${l2.unsafe.origin}${d}.`;
  }
  if (l2.safe) {
    let t = `#${l2.safe.number}: derived from batches on L1`;
    if (l1.derived) t += ` (derivation has read L1 up to #${l1.derived.number})`;
    t += ".";
    if (l2.unsafe && l2.unsafe.number > l2.safe.number && w.safeEpoch != null) {
      t += ` Next to become safe: #${l2.safe.number + 1}, epoch #${w.safeEpoch}; its batch must land on L1 before block #${w.closesAt}`;
      t += w.blocksLeft > 0 ? ` (${w.blocksLeft} L1 blocks left).` : ` — window expired: deposit-only blocks are derived for it.`;
    }
    $("why-safe").textContent = t;
  }
  if (l2.finalized) {
    $("why-finalized").textContent = `#${l2.finalized.number}: the newest L2 block derived only from L1 data at or below L1 finalized #${num(l1.finalized) ?? "-"}.`;
  }
  $("why-window").textContent = `sequencing window ${cfg.seqWindowSize} L1 blocks (${cfg.seqWindowSize * cfg.l1BlockTime} s) · max sequencer drift ${cfg.maxSequencerDrift} s · channel timeout ${cfg.channelTimeout} L1 blocks · L1 block ${cfg.l1BlockTime} s, L2 block ${cfg.l2BlockTime} s`;
  $("conn").title = h.nodeOk === false ? "rollup node not answering" : "server-sent events";
}

function drawChart() {
  const c = $("chart"), ctx = c.getContext("2d");
  const w = c.clientWidth, h = c.clientHeight, dpr = window.devicePixelRatio || 1;
  if (c.width !== w * dpr || c.height !== h * dpr) { c.width = w * dpr; c.height = h * dpr; }
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  const now = Date.now() / 1000, t0 = now - S.span, t1 = now + S.span * 0.2;
  const pts = S.history.filter((p) => p[0] >= t0 - 30);
  const L = 46, R = 8, T = 10, B = 22;
  let lo = Infinity, hi = -Infinity;
  for (const p of pts) for (let k = 1; k <= 3; k++) if (p[k] != null) { lo = Math.min(lo, p[k]); hi = Math.max(hi, p[k]); }
  if (!isFinite(lo)) return;
  if (hi - lo < 10) { hi = lo + 10; }
  const X = (t) => L + ((t - t0) / (t1 - t0)) * (w - L - R);
  const Y = (v) => h - B - ((v - lo) / (hi - lo)) * (h - T - B);
  ctx.font = "11px system-ui"; ctx.fillStyle = "#6b7380"; ctx.strokeStyle = "#eceef2"; ctx.lineWidth = 1;
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4, y = Y(v);
    ctx.beginPath(); ctx.moveTo(L, y); ctx.lineTo(w - R, y); ctx.stroke();
    ctx.fillText(String(Math.round(v)), 4, y + 4);
  }
  ctx.fillText("L2 block", 4, h - 6);
  ctx.strokeStyle = "#999"; ctx.setLineDash([2, 3]);
  ctx.beginPath(); ctx.moveTo(X(now), T); ctx.lineTo(X(now), h - B); ctx.stroke(); ctx.setLineDash([]);
  ctx.fillText("now", X(now) - 10, h - 6);
  const line = (k, color) => {
    ctx.strokeStyle = color; ctx.lineWidth = 2; ctx.beginPath();
    let started = false, last = null;
    for (const p of pts) {
      if (p[k] == null) continue;
      const x = X(Math.max(p[0], t0)), y = Y(p[k]);
      if (!started) { ctx.moveTo(x, y); started = true; } else { ctx.lineTo(x, Y(last)); ctx.lineTo(x, y); }
      last = p[k];
    }
    if (started) ctx.lineTo(X(now), Y(last));
    ctx.stroke();
  };
  line(3, "#1e9e5a"); line(2, "#2f6fd6"); line(1, "#e8871e");
  // the sequencing window and max sequencer drift of the current epochs
  const wnd = S.heads.window || {}, l1h = (S.heads.l1 || {}).head;
  const marker = (t, color, label) => {
    ctx.strokeStyle = color; ctx.fillStyle = color; ctx.lineWidth = 1.5; ctx.setLineDash([6, 4]);
    if (t > t1) {
      ctx.setLineDash([]); ctx.beginPath(); ctx.moveTo(w - R - 10, T + 4); ctx.lineTo(w - R, T + 10); ctx.lineTo(w - R - 10, T + 16); ctx.fill();
      const text = `${label} in ${fmtAgo(t - now)} →`;
      ctx.fillText(text, Math.max(L, w - R - 14 - ctx.measureText(text).width), T + 14 + (color === "#8e44ad" ? 14 : 0));
      return;
    }
    const x = X(t);
    ctx.beginPath(); ctx.moveTo(x, T); ctx.lineTo(x, h - B); ctx.stroke(); ctx.setLineDash([]);
    // right of the line, or left of it when the label would run past the chart's edge
    const tw = ctx.measureText(label).width;
    ctx.fillText(label, x + 3 + tw <= w - R ? x + 3 : Math.max(L, x - 3 - tw), T + 10 + (color === "#8e44ad" ? 14 : 0));
  };
  if (wnd.closesAt != null && l1h && l1h.timestamp) {
    const tc = l1h.timestamp + (wnd.closesAt - l1h.number) * (S.config.l1BlockTime || 2);
    marker(tc, "#c0392b", `seq window of epoch #${wnd.safeEpoch} closes at L1 #${wnd.closesAt}`);
  }
  if (wnd.driftDeadline != null) marker(wnd.driftDeadline, "#8e44ad", `max drift of epoch #${wnd.unsafeEpoch}`);
}

// ------------------------------------------------------------------ scenarios

function renderButtons() {
  const box = $("buttons");
  const order = ["stop-batcher", "start-batcher", "l1-reorg", "kill-op-geth", "da-down", "da-up", "deposit", "withdraw"];
  const names = order.filter((n) => S.scenarios[n]).concat(Object.keys(S.scenarios).filter((n) => !order.includes(n)));
  if (box.dataset.names !== names.join(",")) {
    box.innerHTML = names.map((n) => {
      const s = S.scenarios[n];
      const inputs = Object.entries(s.params || {}).map(([k, v]) => `<label title="${esc(k)}">${esc(k)} <input data-param="${esc(k)}" value="${esc(v)}"></label>`).join("");
      return `<span class="sc" data-scenario="${esc(n)}"><button data-run="${esc(n)}" title="${esc(s.help)}">${esc(s.title)}</button>${inputs}</span>`;
    }).join("");
    box.dataset.names = names.join(",");
  }
  for (const n of names) {
    const s = S.scenarios[n], b = box.querySelector(`button[data-run="${n}"]`);
    b.disabled = !!s.unavailable;
    b.title = s.unavailable || s.help;
    b.classList.toggle("running", !!s.running);
  }
}

$("buttons").addEventListener("click", async (e) => {
  const b = e.target.closest("button[data-run]");
  if (!b) return;
  const name = b.dataset.run, params = {};
  for (const inp of b.parentElement.querySelectorAll("input[data-param]")) params[inp.dataset.param] = Number(inp.value);
  b.disabled = true;
  try {
    const r = await fetch(`/api/scenario/${name}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(params) });
    const j = await r.json();
    if (!r.ok) addNarration({ kind: "narration", scenario: name, step: "error", text: j.error || "failed", t: Date.now() / 1000 });
  } finally {
    b.disabled = !!(S.scenarios[name] || {}).unavailable;
  }
});

function addNarration(ev) {
  const li = document.createElement("li");
  const when = new Date(ev.t * 1000).toLocaleTimeString();
  if (ev.kind === "reorg") {
    li.className = "reorg";
    li.dataset.event = "reorg";
    li.dataset.chain = ev.chain;
    const what = ev.chain === "l2"
      ? `L2 reorg: blocks #${ev.first}–#${ev.last} replaced (${ev.userTxs} user txs, ${ev.deposits} deposits in them)${ev.reason === "derived-replaced-unsafe" ? " by blocks derived from L1" : ""}`
      : `L1 reorg: blocks #${ev.first}–#${ev.last} replaced`;
    li.innerHTML = `<span class="when">${when}</span>${esc(what)}`;
  } else {
    li.dataset.scenario = ev.scenario; li.dataset.step = ev.step;
    if (ev.step === "error") li.className = "err";
    const refs = [];
    if (ev.spec) refs.push(`<a href="${esc(ev.spec)}" target="_blank" rel="noopener">spec: ${esc(ev.specTitle || ev.spec)}</a>`);
    if (ev.module) refs.push(`<a href="/src/${esc(ev.module)}" target="_blank">pyop: ${esc(ev.module)}</a>`);
    li.innerHTML = `<span class="when">${when}${ev.since != null ? ` +${ev.since}s` : ""}</span><span class="sc">${esc(ev.scenario)}</span>${esc(ev.text)}${refs.length ? `<span class="refs">${refs.join("")}</span>` : ""}`;
  }
  const list = $("narration");
  list.prepend(li);
  while (list.children.length > 300) list.lastChild.remove();
}

// ------------------------------------------------------------------ processes

function renderProcs() {
  $("procs").querySelector("tbody").innerHTML = S.procs.map((p) =>
    `<tr data-proc="${esc(p.name)}"><td>${esc(p.name)}</td><td>${esc(p.role)}</td><td>${p.pid}</td><td class="${p.alive ? "alive" : "dead"}">${p.alive ? "running" : p.down ? "down: " + esc(p.down) : "STOPPED"}</td></tr>`).join("");
}

// ------------------------------------------------------------------ explorer

function exploreRender(tr) {
  const ev = (e) => `<li class="${e.type}"><b>${esc(e.type)}</b> ${esc(e.stage)}: <b>${esc(e.reason)}</b> — ${esc(e.summary)}: ${esc(e.detail)}${Object.keys(e.numbers).length ? ` <span class="why">(${esc(Object.entries(e.numbers).map(([k, v]) => k + "=" + v).join(", "))})</span>` : ""}${e.l1Origin ? ` <span class="why">L1 #${e.l1Origin.number}</span>` : ""} <a href="${esc(specUrl(e.spec))}" target="_blank" rel="noopener">[${esc(e.spec)}]</a></li>`;
  const a = tr.attributes || {};
  const dec = (x) => (typeof x === "string" && x.startsWith("0x") ? parseInt(x, 16) : x);
  const txs = a.transactions || [];
  const deps = txs.filter((t) => t.startsWith("0x7e")).length;
  const steps = [
    ["L1 transactions", tr.l1Txs.length ? tr.l1Txs.map((t) => `<div class="mono">${short(t.hash)} in L1 #${t.l1Block}<br>${esc(t.kind)}, ${t.size} bytes${t.error ? "<br>" + esc(t.error) : ""}</div>`).join("<hr>") : "<i>none: the block was not built from a batch (deposit-only / empty batch)</i>"],
    ["frames", tr.frames.length ? tr.frames.map((f) => `<div class="mono">${f.channel.slice(0, 10)}… #${f.number}${f.isLast ? " (last)" : ""} ${f.size} B, L1 #${f.l1Block}</div>`).join("") : "<i>—</i>"],
    ["channel", tr.channels.length ? tr.channels.map((c) => `<div class="mono">${c.id.slice(0, 18)}…<br>${c.frames.length} frames, ${esc(c.compression)}${c.error ? "<br>" + esc(c.error) : ""}<br>L2 #${c.l2 ? c.l2.join("–") : "?"}</div>`).join("<hr>") : "<i>—</i>"],
    ["batch", tr.batches.length ? tr.batches.map((b) => `<div>${esc(b.kind)} batch: L2 #${b.first}${b.last !== b.first ? "–" + b.last : ""} (${b.blocks} blocks, ${b.txs} txs), epochs ${b.epochs.join("–")}</div>`).join("") : "<i>—</i>"],
    ["payload attributes", `<div class="mono">timestamp ${dec(a.timestamp)}<br>${txs.length} txs: ${deps} deposits (the first is the L1-info deposit), ${txs.length - deps} from the batch<br>gasLimit ${dec(a.gasLimit)}<br>noTxPool ${a.noTxPool}</div><div class="mono">derived from L1 #${tr.derivedFrom ? tr.derivedFrom.number : "?"}</div>`],
    ["block", tr.reference ? `<div class="mono">#${tr.block} ${short(tr.reference.hash)}<br>${tr.reference.txs} txs<br>${tr.match ? "✔ matches the derived attributes" : "✘ differs: " + esc(tr.diffs.join("; "))}</div>` : "<i>no reference block</i>"],
  ];
  const path = steps.map(([t, body], i) => `<div class="step" data-step="${i}"><h3>${esc(t)}</h3>${body}</div>`).join('<div class="arrow">→</div>');
  const drops = tr.drops || [];
  $("exout").innerHTML =
    `<p class="note">${esc(tr.source)} · L2 block #${tr.block} · ${tr.seconds} s</p><div class="path" id="expath">${path}</div>` +
    `<h3>What the pipeline decided on the way to this block (${tr.events.length})</h3><ul class="events" id="exevents">${tr.events.map(ev).join("") || "<li>—</li>"}</ul>` +
    `<details ${drops.length ? "open" : ""}><summary>Every drop in this derivation run (${drops.length}), with its DropReason</summary><ul class="events" id="exdrops">${drops.map(ev).join("") || "<li>no drops: every batcher transaction, frame, channel and batch was used</li>"}</ul></details>`;
}

async function explore(n, fixture) {
  $("exout").innerHTML = `<p class="note">deriving L2 block #${n}${fixture ? " from the fixture" : " (capturing the L1 data from the devnet)"}…</p>`;
  const r = await fetch(`/api/explore?block=${n}${fixture ? "&fixture=1" : ""}`);
  const j = await r.json();
  if (!r.ok) { $("exout").innerHTML = `<p class="note">${esc(j.error)}</p>`; return; }
  exploreRender(j);
}

let fixtureLoaded = false;
$("exform").addEventListener("submit", (e) => {
  e.preventDefault();
  const n = Number($("exblock").value);
  if (n > 0) explore(n, fixtureLoaded && S.config.explorerOnly);
});
$("exfile").addEventListener("change", async () => {
  const f = $("exfile").files[0];
  if (!f) return;
  $("exfix").textContent = "loading and deriving…";
  const r = await fetch("/api/fixture", { method: "POST", body: await f.arrayBuffer() });
  const j = await r.json();
  if (!r.ok) { $("exfix").textContent = j.error; return; }
  fixtureLoaded = true;
  fixtureBlocks(j);
});
function fixtureBlocks(j) {
  $("exfix").innerHTML = `${esc(j.summary)}, ${j.drops} drops — blocks ` +
    j.blocks.slice(0, 400).map((n) => `<a href="#" data-fx="${n}">${n}</a>`).join(" ") + (j.blocks.length > 400 ? " …" : "");
}
$("exfix").addEventListener("click", (e) => {
  const a = e.target.closest("a[data-fx]");
  if (!a) return;
  e.preventDefault();
  $("exblock").value = a.dataset.fx;
  explore(Number(a.dataset.fx), true);
});

// ------------------------------------------------------------------ render loop

const L1 = new VList($("l1list"), "l1");
const L2 = new VList($("l2list"), "l2");
let pending = false, pendingTs = [];
function schedule(ts) {
  if (ts) pendingTs.push(ts);
  if (pending) return;
  pending = true;
  requestAnimationFrame(() => {
    pending = false;
    L1.sync(); L2.sync(); L1.render(); L2.render(); drawLinks(); drawChart();
    $("l1count").textContent = L1.count ? `(${L1.count} blocks)` : "";
    $("l2count").textContent = L2.count ? `(${L2.count} blocks)` : "";
    const done = performance.timeOrigin + performance.now();
    for (const t of pendingTs) { stats.latencies.push(done - t); }
    if (stats.latencies.length > 2000) stats.latencies.splice(0, stats.latencies.length - 2000);
    pendingTs = [];
    stats.renders++; stats.lastRender = done;
  });
}
setInterval(() => drawChart(), 1000);  // the time axis moves (no network)
window.addEventListener("resize", () => schedule());
document.querySelector(".spans").addEventListener("click", (e) => {
  const b = e.target.closest("button[data-span]");
  if (!b) return;
  S.span = Number(b.dataset.span);
  for (const x of document.querySelectorAll(".spans button")) x.classList.toggle("on", x === b);
  drawChart();
});

// ------------------------------------------------------------------ events

function connect() {
  const es = new EventSource("/events");
  const on = (kind, f) => es.addEventListener(kind, (m) => { stats.events++; const d = JSON.parse(m.data); f(d); });
  on("snapshot", (d) => {
    S.config = d.config; S.l1.clear(); S.l2.clear(); S.l1lo = S.l1hi = S.l2lo = S.l2hi = null;
    putRows("l1", d.l1); putRows("l2", d.l2);
    S.history = d.history; S.procs = d.procs; S.scenarios = d.scenarios || {};
    if (d.heads && d.heads.l2) setHeads(d.heads);
    $("narration").innerHTML = "";
    for (const ev of d.events) addNarration(ev);
    renderButtons(); renderProcs();
    $("conn").textContent = "live"; $("conn").className = "conn ok";
    if (S.config.explorerOnly) {
      for (const sel of [".chains", ".chartpanel", ".why", ".scenarios", ".procs", "#heads"]) document.querySelector(sel).style.display = "none";
      $("exgo").textContent = "explore";
      fetch("/api/fixture").then((r) => r.ok ? r.json() : null).then((j) => { if (j) { fixtureLoaded = true; fixtureBlocks(j); } });
    }
    schedule(d.ts);
  });
  on("heads", (d) => { setHeads(d); S.history.push(d.point); if (S.history.length > 4000) S.history.splice(0, 1000); schedule(d.ts); });
  on("l2", (d) => { putRows("l2", d.rows); schedule(d.ts); });
  on("l1", (d) => { putRows("l1", d.rows); schedule(d.ts); });
  on("truncate", (d) => { if (d.l1 != null) truncate("l1", d.l1); if (d.l2 != null) truncate("l2", d.l2); schedule(d.ts); });
  on("reorg", (d) => addNarration(d));
  on("narration", (d) => addNarration(d));
  on("procs", (d) => { S.procs = d.procs; renderProcs(); });
  on("scenarios", (d) => { S.scenarios = d.scenarios; renderButtons(); });
  es.onerror = () => { $("conn").textContent = "reconnecting…"; $("conn").className = "conn bad"; };
}
connect();
