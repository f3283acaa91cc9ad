// The fleet page. The server sends, at most once a second, only what changed in the rows this page
// shows (its window of the fleet, most urgent first, after its filter); this script keeps those rows,
// draws a few dozen of them at a time in a virtualised list, and charts one host in the detail view.
"use strict";

(() => {
  const ROW_HEIGHT = 38;
  /** Rows drawn above and below the visible ones, so a small scroll needs no round trip. */
  const OVERSCAN = 15;

  const $ = (id) => document.getElementById(id);
  const scroller = $("scroller");
  const spacer = $("spacer");
  const filterInput = $("filter");
  const connection = $("connection");

  let streamId = null;
  let columns = [];
  let hotCelsius = 80;
  let windowSeconds = 900;
  let clockOffset = 0;
  let total = 0;
  let order = [];
  let orderOffset = 0;
  /** name → { row, series: [{t, v}], dirty } for the rows in the window. */
  const rows = new Map();
  let summary = null;
  let detailHost = null;
  let detail = null;
  const pool = [];
  let renderQueued = false;
  let lastView = "";
  let viewTimer = null;

  const colors = {};
  function readColors() {
    const style = getComputedStyle(document.documentElement);
    for (const name of ["spark", "spark-hot", "muted", "line", "fg"])
      colors[name] = style.getPropertyValue(`--${name}`).trim();
  }
  readColors();
  matchMedia("(prefers-color-scheme: dark)").addEventListener("change", () => {
    readColors();
    for (const entry of rows.values()) entry.dirty = true;
    queueRender();
    if (detail) openDetail(detail.name);
  });

  // Writing the same text or class again still costs the browser a layout: write only changes.
  function setText(element, text) {
    if (element.textContent !== text) element.textContent = text;
  }
  function setClass(element, name) {
    if (element.className !== name) element.className = name;
  }

  // ---- formatting -------------------------------------------------------------------------------
  function format(column, value) {
    if (value === null || value === undefined) return "–";
    if (column.unit === "fraction") return `${Math.round(value * 100)} %`;
    if (column.unit === "celsius") return `${value.toFixed(1)} °C`;
    return value.toFixed(2);
  }
  function axisLabel(column, value) {
    if (column.unit === "fraction") return `${Math.round(value * 100)} %`;
    if (column.unit === "celsius") return `${Math.round(value)} °C`;
    return String(Number(value.toFixed(2)));
  }
  function ago(ms) {
    const s = Math.max(0, Math.round((Date.now() + clockOffset - ms) / 1000));
    if (s < 60) return `${s} s ago`;
    if (s < 3600) return `${Math.floor(s / 60)} min ago`;
    return `${Math.floor(s / 3600)} h ago`;
  }
  function bytes(n) {
    const units = ["B", "KiB", "MiB", "GiB", "TiB"];
    let i = 0;
    while (n >= 1024 && i < units.length - 1) {
      n /= 1024;
      i++;
    }
    return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
  }

  // ---- the stream ---------------------------------------------------------------------------------
  function connect() {
    const source = new EventSource("/events");
    source.addEventListener("hello", (event) => {
      const hello = JSON.parse(event.data);
      streamId = hello.id;
      columns = hello.columns;
      hotCelsius = hello.hotCelsius;
      windowSeconds = hello.windowMinutes * 60;
      rows.clear();
      order = [];
      lastView = "";
      buildHead();
      setConnection(true);
      sendView(true);
    });
    source.onmessage = (event) => apply(JSON.parse(event.data));
    // EventSource reconnects by itself (the server asks for 1 s); the page says so meanwhile.
    source.onerror = () => setConnection(false);
  }

  function setConnection(up) {
    connection.textContent = up
      ? summary && !summary.broker
        ? "broker unreachable"
        : "live"
      : "reconnecting…";
    connection.classList.toggle("down", !up || (summary !== null && !summary.broker));
    document.body.dataset.connected = up ? "true" : "false";
  }

  function currentView() {
    const first = Math.max(0, Math.floor(scroller.scrollTop / ROW_HEIGHT) - OVERSCAN);
    const visible = Math.ceil((scroller.clientHeight || 800) / ROW_HEIGHT);
    return {
      offset: first,
      count: Math.min(200, visible + 2 * OVERSCAN),
      filter: filterInput.value,
      detail: detailHost,
    };
  }

  function sendView(force) {
    if (!streamId) return;
    const view = currentView();
    const key = JSON.stringify(view);
    if (!force && key === lastView) return;
    lastView = key;
    fetch("/api/view", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ id: streamId, ...view }),
    })
      .then((r) => (r.ok ? r.json() : null))
      .then((update) => update && apply(update))
      .catch(() => setConnection(false));
  }

  function scheduleView() {
    clearTimeout(viewTimer);
    viewTimer = setTimeout(() => sendView(false), 40);
  }

  function apply(update) {
    clockOffset = update.now - Date.now();
    if (update.n !== undefined) {
      total = update.n;
      spacer.style.height = `${total * ROW_HEIGHT}px`;
    }
    if (update.order) {
      order = update.order;
      orderOffset = update.o ?? 0;
      const keep = new Set(order);
      for (const name of rows.keys()) if (!keep.has(name)) rows.delete(name);
    }
    for (const row of update.rows ?? []) {
      let entry = rows.get(row.h);
      if (row.p || !entry) {
        entry = { row, series: row.p ?? columns.map(() => ({ t: [], v: [] })), dirty: true };
        rows.set(row.h, entry);
      } else {
        appendPoints(entry.series, entry.row.t, row);
        entry.row = row;
        entry.dirty = true;
      }
    }
    if (update.sum) {
      summary = update.sum;
      renderSummary();
      setConnection(true);
    }
    if (update.detail && detail && update.detail.row.h === detail.name) updateDetail(update.detail);
    queueRender();
  }

  /** Adds each column's newest value to a host's series when it is a new point, and trims the old. */
  function appendPoints(series, previousTimes, row) {
    const oldest = Math.floor((Date.now() + clockOffset) / 1000) - windowSeconds;
    row.t.forEach((t, i) => {
      const s = series[i];
      if (row.v[i] === null || t <= (s.t.at(-1) ?? 0) || t <= (previousTimes[i] ?? 0)) return;
      s.t.push(t);
      s.v.push(row.v[i]);
      let drop = 0;
      while (drop < s.t.length && s.t[drop] < oldest) drop++;
      if (drop > 0) {
        s.t.splice(0, drop);
        s.v.splice(0, drop);
      }
    });
  }

  // ---- the table ----------------------------------------------------------------------------------
  function buildHead() {
    document.documentElement.style.setProperty("--metric-columns", String(columns.length));
    const head = $("head");
    head.replaceChildren();
    for (const label of ["host", "status", ...columns.map((c) => c.label), "last seen"]) {
      const cell = document.createElement("div");
      cell.textContent = label;
      cell.setAttribute("role", "columnheader");
      head.append(cell);
    }
    for (const element of pool) element.remove();
    pool.length = 0;
  }

  function makeRow() {
    const element = document.createElement("div");
    element.className = "row host-row";
    element.setAttribute("role", "row");
    const name = document.createElement("div");
    name.className = "name";
    const status = document.createElement("div");
    const pill = document.createElement("span");
    pill.className = "status";
    status.append(pill);
    element.append(name, status);
    const metrics = columns.map((column) => {
      const cell = document.createElement("div");
      cell.className = "metric";
      cell.dataset.metric = column.metric;
      const value = document.createElement("span");
      value.className = "value";
      const canvas = document.createElement("canvas");
      canvas.width = 72 * devicePixelRatio;
      canvas.height = 24 * devicePixelRatio;
      cell.append(value, canvas);
      element.append(cell);
      return { cell, value, canvas };
    });
    const seen = document.createElement("div");
    seen.className = "seen";
    element.append(seen);
    element.addEventListener("click", () => openDetail(element.dataset.host));
    scroller.append(element);
    return { element, name, pill, metrics, seen, host: null, drawn: null };
  }

  function queueRender() {
    if (renderQueued) return;
    renderQueued = true;
    requestAnimationFrame(render);
  }

  function render() {
    renderQueued = false;
    $("empty").hidden = total > 0 || !summary;
    const first = Math.floor(scroller.scrollTop / ROW_HEIGHT);
    const last = first + Math.ceil(scroller.clientHeight / ROW_HEIGHT);
    let used = 0;
    for (let j = 0; j < order.length; j++) {
      const index = orderOffset + j;
      if (index < first - OVERSCAN || index > last + OVERSCAN) continue;
      const entry = rows.get(order[j]);
      if (!entry) continue;
      const view = pool[used] ?? (pool[used] = makeRow());
      used++;
      view.element.hidden = false;
      view.element.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
      view.element.dataset.index = String(index);
      if (view.host !== entry.row.h || entry.dirty || view.drawn !== entry) drawRow(view, entry);
    }
    for (let k = used; k < pool.length; k++) {
      pool[k].element.hidden = true;
      pool[k].host = null;
    }
    for (const entry of rows.values()) entry.dirty = false;
    for (let k = 0; k < used; k++) setText(pool[k].seen, ago(rows.get(pool[k].host)?.row.seen ?? 0));
  }

  function drawRow(view, entry) {
    const { row, series } = entry;
    view.host = row.h;
    view.drawn = entry;
    view.element.dataset.host = row.h;
    view.element.dataset.status = row.s;
    setClass(
      view.element,
      `row host-row ${row.s}${row.hot ? " hot" : ""}${row.h === detailHost ? " selected" : ""}`,
    );
    setText(view.name, row.h);
    if (view.name.title !== row.h) view.name.title = row.h;
    setText(view.pill, row.s);
    setClass(view.pill, `status ${row.s}`);
    const noSensor = new Set(row.ns ?? []);
    columns.forEach((column, i) => {
      const m = view.metrics[i];
      const missing = noSensor.has(i);
      const hot = column.unit === "celsius" && row.hot;
      setClass(m.cell, `metric${missing ? " nosensor" : ""}${hot ? " hot" : ""}`);
      setText(m.value, missing ? "no sensor" : format(column, row.v[i]));
      const title = hot ? `at or above ${hotCelsius} °C` : "";
      if (m.value.title !== title) m.value.title = title;
      if (row.v[i] === null) delete m.cell.dataset.value;
      else m.cell.dataset.value = String(row.v[i]);
      m.cell.dataset.time = String(row.t[i]);
      spark(m.canvas, series[i], column, hot, missing);
    });
  }

  /** A sparkline of the last window: fractions on a 0–1 scale, others between their own extremes. */
  function spark(canvas, s, column, hot, missing) {
    const ctx = canvas.getContext("2d");
    const w = canvas.width;
    const h = canvas.height;
    ctx.clearRect(0, 0, w, h);
    canvas.dataset.points = String(missing ? 0 : s.v.length);
    canvas.dataset.first = String(missing ? 0 : (s.t[0] ?? 0));
    if (missing || s.v.length < 2) return;
    // From the first point (at most a window ago) to now: a young series fills the sparkline too.
    const now = Math.floor((Date.now() + clockOffset) / 1000);
    const x0 = Math.max(now - windowSeconds, s.t[0]);
    const span = Math.max(1, now - x0);
    let lo = column.unit === "fraction" ? 0 : Math.min(...s.v);
    let hi = column.unit === "fraction" ? 1 : Math.max(...s.v);
    if (column.unit === "celsius") hi = Math.max(hi, hotCelsius);
    if (hi - lo < 1e-6) {
      lo -= 0.5;
      hi += 0.5;
    }
    const pad = 2 * devicePixelRatio;
    const x = (t) => ((t - x0) / span) * w;
    const y = (v) => h - pad - ((v - lo) / (hi - lo)) * (h - 2 * pad);
    if (column.unit === "celsius") {
      ctx.strokeStyle = colors["spark-hot"];
      ctx.globalAlpha = 0.35;
      ctx.setLineDash([3, 3]);
      ctx.beginPath();
      ctx.moveTo(0, y(hotCelsius));
      ctx.lineTo(w, y(hotCelsius));
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.globalAlpha = 1;
    }
    ctx.strokeStyle = hot ? colors["spark-hot"] : colors.spark;
    ctx.lineWidth = 1.25 * devicePixelRatio;
    ctx.beginPath();
    for (let i = 0; i < s.v.length; i++) {
      const px = x(s.t[i]);
      const py = y(s.v[i]);
      if (i === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    }
    ctx.stroke();
  }

  /** The summary's chips, made once and then only their numbers changed. */
  const chips = new Map();
  function renderSummary() {
    const s = summary;
    const entries = [
      ["hosts", "hosts", String(s.hosts)],
      ["online", "online", String(s.online)],
      ["offline", "offline", String(s.offline)],
      ["silent", "silent", String(s.silent)],
      ["hot", `≥ ${hotCelsius} °C`, String(s.hot)],
      ["nosensor", "no sensor", String(s.noSensor)],
      ["hottest", "hottest", s.hottest ? `${s.hottest.name} ${s.hottest.celsius.toFixed(1)} °C` : null],
      ["busiest", "busiest", s.busiest ? `${s.busiest.name} ${Math.round(s.busiest.pct * 100)} %` : null],
    ];
    for (const [kind, label, value] of entries) {
      let chip = chips.get(kind);
      if (!chip) {
        const span = document.createElement("span");
        span.className = `chip ${kind}`;
        span.dataset.kind = kind;
        const name = document.createTextNode("");
        const b = document.createElement("b");
        span.append(name, b);
        $("summary").append(span);
        chip = { span, name, b };
        chips.set(kind, chip);
      }
      chip.span.hidden = value === null;
      if (chip.name.data !== `${label} `) chip.name.data = `${label} `;
      setText(chip.b, value ?? "");
    }
  }

  // ---- the detail view --------------------------------------------------------------------------
  function openDetail(name) {
    if (!name) return;
    detailHost = name;
    fetch(`/api/hosts/${encodeURIComponent(name)}`)
      .then((r) => (r.ok ? r.json() : null))
      .then((host) => {
        if (!host || detailHost !== name) return;
        showDetail(name, host);
        sendView(true);
      })
      .catch(() => setConnection(false));
    for (const entry of rows.values()) entry.dirty = true;
    queueRender();
  }

  function closeDetail() {
    detailHost = null;
    for (const d of detail?.plots ?? []) d?.destroy();
    detail = null;
    $("detail").hidden = true;
    for (const entry of rows.values()) entry.dirty = true;
    queueRender();
    sendView(true);
  }

  function showDetail(name, host) {
    for (const d of detail?.plots ?? []) d?.destroy();
    const panel = $("detail");
    panel.hidden = false;
    $("detail-name").textContent = name;
    const charts = $("detail-charts");
    charts.replaceChildren();
    const width = Math.max(260, panel.clientWidth - 36);
    const series = host.row.p;
    const plots = columns.map((column, i) => {
      const box = document.createElement("div");
      box.className = "chart";
      box.dataset.metric = column.metric;
      const title = document.createElement("h3");
      box.append(title);
      charts.append(box);
      if ((host.row.ns ?? []).includes(i)) {
        title.textContent = `${column.label}: no sensor`;
        return null;
      }
      title.textContent = column.label;
      const data = [series[i].t.slice(), series[i].v.slice()];
      box.dataset.points = String(data[0].length);
      const axis = {
        stroke: colors.muted,
        grid: { stroke: colors.line, width: 1 },
        ticks: { stroke: colors.line },
      };
      const scaleY =
        column.unit === "fraction"
          ? { range: [0, 1] }
          : column.unit === "celsius"
            ? {
                range: (_, min, max) => [
                  Math.floor(Math.min(min, hotCelsius) - 5),
                  Math.ceil(Math.max(max, hotCelsius) + 5),
                ],
              }
            : {};
      return new uPlot(
        {
          width,
          height: 130,
          legend: { show: false },
          scales: { x: { time: true }, y: scaleY },
          axes: [
            axis,
            {
              ...axis,
              size: 60,
              values: (_, ticks) => ticks.map((v) => axisLabel(column, v)),
            },
          ],
          series: [
            {},
            {
              stroke: column.unit === "celsius" ? colors["spark-hot"] : colors.spark,
              width: 1.5,
              points: { show: false },
            },
          ],
        },
        data,
        box,
      );
    });
    detail = { name, plots, data: plots.map((p) => (p ? p.data : null)) };
    renderDetailInfo(host.row, host.latest, host.architecture, host.sensors);
  }

  function updateDetail(update) {
    const row = update.row;
    detail.plots.forEach((plot, i) => {
      if (!plot || row.v[i] === null) return;
      const [t, v] = plot.data;
      if (t.length > 0 && row.t[i] <= t[t.length - 1]) return;
      const oldest = row.t[i] - windowSeconds;
      let drop = 0;
      while (drop < t.length && t[drop] < oldest) drop++;
      const data = [
        [...t.slice(drop), row.t[i]],
        [...v.slice(drop), row.v[i]],
      ];
      plot.setData(data);
      plot.root.parentElement.dataset.points = String(data[0].length);
    });
    renderDetailInfo(row, update.latest);
  }

  function renderDetailInfo(row, latest, architecture, sensors) {
    if (architecture !== undefined) detail.architecture = architecture;
    if (sensors !== undefined) detail.sensors = sensors;
    const status = $("detail-status");
    status.textContent = row.s;
    status.className = `status ${row.s}`;
    const sensorText = Object.entries(detail.sensors ?? {})
      .map(([metric, sensor]) => `${metric}: ${sensor}`)
      .join(", ");
    $("detail-meta").textContent = [
      detail.architecture,
      `every ${row.i / 1000} s`,
      `last seen ${ago(row.seen)}`,
      sensorText && `sensors ${sensorText}`,
    ]
      .filter(Boolean)
      .join(" · ");
    const fields = $("detail-fields");
    fields.replaceChildren();
    const add = (key, value) => {
      const dt = document.createElement("dt");
      dt.textContent = key;
      const dd = document.createElement("dd");
      if (value instanceof Node) dd.append(value);
      else dd.textContent = value;
      fields.append(dt, dd);
    };
    const walk = (prefix, value) => {
      if (Array.isArray(value)) {
        // A per-entity metric; the core metric's entities (system.core.*) are drawn as one bar per core.
        if (prefix === "core" && value.every((c) => typeof c?.total?.pct === "number")) {
          const bars = document.createElement("div");
          bars.className = "cores";
          bars.title = value.map((c) => `core ${c.id}: ${Math.round(c.total.pct * 100)} %`).join("\n");
          for (const c of value) {
            const bar = document.createElement("span");
            bar.style.height = `${Math.max(4, c.total.pct * 100)}%`;
            bars.append(bar);
          }
          add(`${prefix}.total.pct (${value.length})`, bars);
        } else if (value.every((x) => x && typeof x === "object")) {
          value.forEach((entity, i) => walk(`${prefix}[${i}]`, entity));
        } else add(prefix, value.map((x) => (typeof x === "number" ? x.toFixed(1) : String(x))).join(" "));
      } else if (value && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) walk(prefix ? `${prefix}.${k}` : k, v);
      } else if (typeof value === "number") {
        const unit = prefix.endsWith("pct")
          ? `${(value * 100).toFixed(1)} %`
          : prefix.includes("celsius")
            ? `${value.toFixed(1)} °C`
            : /(^|\.)(total|bytes|free)$/.test(prefix) && value > 4096
              ? bytes(value)
              : String(value);
        add(prefix, unit);
      } else add(prefix, String(value));
    };
    for (const [metric, system] of Object.entries(latest ?? {})) walk(metric, system);
  }

  // ---- events -------------------------------------------------------------------------------------
  scroller.addEventListener(
    "scroll",
    () => {
      queueRender();
      scheduleView();
    },
    { passive: true },
  );
  filterInput.addEventListener("input", () => {
    scroller.scrollTop = 0;
    scheduleView();
  });
  addEventListener("resize", () => {
    queueRender();
    scheduleView();
  });
  $("detail-close").addEventListener("click", closeDetail);
  addEventListener("keydown", (event) => {
    if (event.key === "Escape" && detailHost) closeDetail();
  });
  // "last seen" moves on even when nothing else changes.
  setInterval(() => queueRender(), 1000);
  connect();
})();
