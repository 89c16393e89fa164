// The dashboard: fetches /api/v1/dashboard and draws each plot as inline SVG.
// No libraries; text from data goes in via textContent only.
// Traffic plots show real users by default; simulated users (`vacrec simulate`) are one
// click away but never mixed in, so a simulation cannot pass for real learning.
// When the server requires the operator token (VACREC_ADMIN_TOKEN), the data route answers
// 401: the page then asks for the token and sends it as "Authorization: Bearer …", keeping
// it in sessionStorage only (gone with the tab, never in the URL or a cookie).
"use strict";

(function () {
  const { loadLang, saveLang, translator, $, el } = window.vacrecCommon;
  const REFRESH_MS = 30000;
  const SVG_NS = "http://www.w3.org/2000/svg";
  // The viewBox width follows the panel's real width (within limits), so text in the
  // plots keeps its size on a phone instead of being scaled down with the drawing.
  let W = 480;
  const H = 240;
  const PAD = { top: 12, right: 16, bottom: 30, left: 46 };
  const COLORS = ["#2563eb", "#db2777", "#0d9488", "#ea580c", "#7c3aed", "#65a30d"];

  const I18N = {
    ru: {
      page_title: "Панель: обучение и трафик",
      brand: "Подбор вакансий",
      nav_search: "Поиск",
      switch_to: "EN",
      switch_label: "Switch to English",
      title: "Как учится агент",
      reward_title: "Средняя награда во времени",
      rate_title: "Доля подборок с оценками",
      actions_title: "Показы по отраслям",
      models_title: "Версии модели: оценки вне политики",
      loss_title: "Кривая потерь последнего обучения",
      stat_events: "подборок показано",
      stat_feedback: "оценок получено",
      stat_rate: "доля с оценками",
      stat_reward: "средняя награда",
      stat_model: "модель в работе",
      model_none: "нет",
      empty_reward: "Оценок пока нет. Когда соискатели оценят подборки, здесь появится график.",
      empty_rate: "Подборок пока не было.",
      empty_actions: "Агент ещё ничего не показывал.",
      empty_models: "Обученных моделей с оценками пока нет. Запустите «vacrec train».",
      empty_loss: "Обучения ещё не было.",
      catalog_age: (n, newest) => `Каталог: вакансий в показе — ${n}, самая новая опубликована ${newest}.`,
      catalog_refresh: (at, added, retired) =>
        `Последнее обновление с hh.ru ${at}: добавлено ${added}, снято с показа ${retired}.`,
      catalog_refresh_failed: (at) => `Последнее обновление с hh.ru ${at} не удалось — ничего не снято.`,
      catalog_never: "Каталог ещё не обновлялся с hh.ru (команда «vacrec refresh»).",
      updated: (time) => `Обновлено ${time}; обновляется каждые 30 с.`,
      load_error: (msg) => `Не удалось загрузить данные панели: ${msg}`,
      token_label: "Токен оператора",
      token_submit: "Открыть панель",
      token_note: "Сервер показывает эту панель только оператору (VACREC_ADMIN_TOKEN). Токен хранится в этой вкладке, пока она открыта.",
      token_wrong: "Токен не подошёл.",
      rated: "с оценкой",
      served: "показов",
      mean_reward: "средняя награда",
      answers: "оценок",
      version: "версия",
      live: "в работе",
      step: "шаг обновления",
      loss: "потери",
      model_loss: (v) => `Модель версии ${v}`,
      origin_label: "Чей трафик:",
      origin_real: (n) => `Реальные пользователи · ${n}`,
      origin_simulated: (n) => `Симуляция · ${n}`,
      origin_note_real: (n) => `Симулированные пользователи (${n} подборок, «vacrec simulate») здесь не показаны.`,
      origin_note_simulated: "Только симулированные пользователи: это проверка системы, а не отклик людей.",
      empty_simulated: "Симуляций не было.",
      champion: "чемпион",
      champion_dr: "чемпион (DR)",
      promoted: "выпущена",
      not_promoted: "не выпущена",
      models_note:
        "Каждое обучение сравнивает кандидата с чемпионом (моделью в работе или выбором по совпадению слов) " +
        "на одних и тех же отложенных оценках: закрашенные точки — кандидат, полая серая — чемпион по DR, " +
        "отрезки — 95 % интервалы. Модель выходит в работу, только если она надёжно лучше чемпиона.",
      loss_note:
        "Это ошибка временных разностей (TD, Huber) Double-DQN по шагам обучения, а не качество подборок. " +
        "Цели считает сама обучаемая сеть (её целевая копия периодически подтягивается), поэтому после " +
        "первых сотен шагов кривая может расти: цели двигаются вместе с оценками Q. Судите о модели по " +
        "графику версий выше — оценке DR кандидата против чемпиона на отложенных данных.",
    },
    en: {
      page_title: "Dashboard: learning and traffic",
      brand: "Job finder",
      nav_search: "Search",
      switch_to: "RU",
      switch_label: "Переключить на русский",
      title: "How the agent is learning",
      reward_title: "Mean reward over time",
      rate_title: "Share of recommendations rated",
      actions_title: "Actions served per industry",
      models_title: "Model versions: off-policy estimates",
      loss_title: "Loss curve of the last training",
      stat_events: "recommendations served",
      stat_feedback: "ratings received",
      stat_rate: "share rated",
      stat_reward: "mean reward",
      stat_model: "live model",
      model_none: "none",
      empty_reward: "No ratings yet. Once job seekers rate recommendations, the plot appears here.",
      empty_rate: "No recommendations served yet.",
      empty_actions: "The agent has not served anything yet.",
      empty_models: "No trained models with estimates yet. Run “vacrec train”.",
      empty_loss: "No training yet.",
      updated: (time) => `Updated ${time}; refreshes every 30 s.`,
      load_error: (msg) => `Could not load the dashboard data: ${msg}`,
      token_label: "Operator token",
      token_submit: "Open the dashboard",
      token_note: "This server shows the dashboard to its operator only (VACREC_ADMIN_TOKEN). The token is kept in this tab while it is open.",
      token_wrong: "That token was not accepted.",
      rated: "rated",
      served: "served",
      mean_reward: "mean reward",
      answers: "ratings",
      version: "version",
      live: "live",
      step: "update step",
      loss: "loss",
      model_loss: (v) => `Model version ${v}`,
      origin_label: "Whose traffic:",
      origin_real: (n) => `Real users · ${n}`,
      origin_simulated: (n) => `Simulated · ${n}`,
      catalog_age: (n, newest) => `Catalog: ${n} vacancies served, the newest published ${newest}.`,
      catalog_refresh: (at, added, retired) =>
        `Last refresh from hh.ru ${at}: ${added} added, ${retired} retired.`,
      catalog_refresh_failed: (at) => `The last refresh from hh.ru (${at}) failed; nothing was retired.`,
      catalog_never: "The catalog has never been refreshed from hh.ru (`vacrec refresh`).",
      origin_note_real: (n) => `Simulated users (${n} recommendations, “vacrec simulate”) are not shown here.`,
      origin_note_simulated: "Simulated users only: a test of the system, not what people think.",
      empty_simulated: "No simulations have run.",
      champion: "champion",
      champion_dr: "champion (DR)",
      promoted: "promoted",
      not_promoted: "not promoted",
      models_note:
        "Each training compares its candidate with the champion (the live model, or matching the seeker’s " +
        "words) on the same held-out ratings: filled dots are the candidate, the hollow grey one is the " +
        "champion’s DR estimate, bars are 95% intervals. A model goes live only if it is reliably better.",
      loss_note:
        "This is the Double-DQN temporal-difference (Huber) loss per update step, not the quality of the " +
        "recommendations. Its targets come from the learning network itself (a target copy that catches up " +
        "periodically), so the curve can rise after the first few hundred steps as targets move with the " +
        "Q-values. Judge a model by the versions plot above: its held-out DR estimate against the champion’s.",
    },
  };

  const TOKEN_KEY = "vacrec.adminToken";
  const state = { lang: loadLang(I18N), data: null, error: null, origin: "real", needToken: false, tokenRejected: false };

  function storedToken() {
    try {
      return window.sessionStorage.getItem(TOKEN_KEY);
    } catch (_) {
      return null;
    }
  }

  function storeToken(token) {
    try {
      if (token) window.sessionStorage.setItem(TOKEN_KEY, token);
      else window.sessionStorage.removeItem(TOKEN_KEY);
    } catch (_) {
      /* storage disabled: the token is asked for again after a reload */
    }
  }

  let token = storedToken();
  const t = translator(I18N, () => state.lang);

  const locale = () => (state.lang === "ru" ? "ru-RU" : "en-GB");

  function svg(tag, attrs = {}, children = []) {
    const node = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (k === "text") node.textContent = v;
      else if (v !== null && v !== undefined) node.setAttribute(k, String(v));
    }
    for (const c of children) if (c) node.append(c);
    return node;
  }

  const tip = (text) => svg("title", { text });

  // ------------------------------------------------------------------ scales

  function niceTicks(lo, hi, count = 5) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / count;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const ticks = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) {
      ticks.push(Math.abs(v) < step * 1e-9 ? 0 : v);
    }
    return ticks;
  }

  /** Fixed decimals for a tick list, as many as its step needs (0.1 → 1, 0.25 → 2). */
  function tickFormat(ticks) {
    const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
    let decimals = 0;
    while (decimals < 6 && Math.abs(step * 10 ** decimals - Math.round(step * 10 ** decimals)) > 1e-9) {
      decimals += 1;
    }
    return (v) => v.toFixed(decimals);
  }

  function scale(d0, d1, r0, r1) {
    const span = d1 - d0 || 1;
    return (v) => r0 + ((v - d0) / span) * (r1 - r0);
  }

  function frame(label) {
    return svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": label });
  }

  function yAxis(root, y, ticks, fmt) {
    const grid = svg("g", { class: "grid" });
    const axis = svg("g", { class: "axis tick" });
    for (const v of ticks) {
      grid.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v) }));
      axis.append(
        svg("text", { x: PAD.left - 6, y: y(v) + 4, "text-anchor": "end", text: fmt(v) }),
      );
    }
    root.append(grid, axis);
  }

  function xAxisLine(root) {
    root.append(
      svg("g", { class: "axis" }, [
        svg("line", { x1: PAD.left, x2: W - PAD.right, y1: H - PAD.bottom, y2: H - PAD.bottom }),
      ]),
    );
  }

  function emptyState(body, text) {
    body.replaceChildren(el("p", { className: "empty-state", text }));
  }

  // ------------------------------------------------------------------ line plot

  /** The traffic of the origin shown (real or simulated users). */
  function traffic(data) {
    return (data.traffic || {})[state.origin] || {};
  }

  function formatTime(ms, bucketS) {
    const d = new Date(ms);
    let opts = { day: "2-digit", month: "2-digit", hour: "2-digit", minute: "2-digit" };
    if (bucketS >= 86400) opts = { day: "2-digit", month: "2-digit" };
    else if (bucketS < 3600) opts = { hour: "2-digit", minute: "2-digit" }; // spans under 12 h
    return d.toLocaleString(locale(), opts);
  }

  /** points: [{x, y, tip}]; opts: {yMin, yMax, yFmt, xFmt, cls, label, zero, width}.
   * width: the x extent of one point (a time bucket), so a lone bucket is drawn as a
   * level over its interval instead of a dot that does not read as a series. */
  function linePlot(body, points, opts) {
    const root = frame(opts.label);
    const xs = points.map((p) => p.x);
    let x0 = Math.min(...xs);
    let x1 = Math.max(...xs) + (points.length === 1 && opts.width ? opts.width : 0);
    if (x0 === x1) {
      x0 -= 1;
      x1 += 1;
    }
    const ys = points.map((p) => p.y);
    const yMin = opts.yMin ?? Math.min(...ys);
    let yMax = opts.yMax ?? Math.max(...ys);
    if (yMax === yMin) yMax = yMin + 1;
    let yTicks = niceTicks(yMin, yMax, 4);
    if (opts.yMax === undefined && yTicks.length > 1 && yTicks[yTicks.length - 1] < yMax) {
      // Round the top up to the next tick so the curve never pokes out above the grid.
      yMax = yTicks[yTicks.length - 1] + (yTicks[1] - yTicks[0]);
      yTicks = [...yTicks, yMax];
    }
    const x = scale(x0, x1, PAD.left + 6, W - PAD.right - 6);
    const y = scale(yMin, yMax, H - PAD.bottom, PAD.top);
    yAxis(root, y, yTicks, opts.yFmt || tickFormat(yTicks));
    xAxisLine(root);
    if (opts.zero && yMin < 0 && yMax > 0) {
      root.append(
        svg("line", {
          x1: PAD.left, x2: W - PAD.right, y1: y(0), y2: y(0), stroke: "#9aa3b2",
          "stroke-dasharray": "3 3",
        }),
      );
    }
    const xt = svg("g", { class: "tick" });
    let xTicks;
    if (opts.xNice) {
      xTicks = niceTicks(x0, x1, 5);
    } else {
      // Time axes: label every step-th bucket (evenly spaced, so labels never collide).
      const step = Math.max(1, Math.ceil((points.length - 1) / 4));
      xTicks = points.filter((_, i) => i % step === 0).map((p) => p.x);
    }
    for (const v of new Set(xTicks)) {
      xt.append(
        svg("text", { x: x(v), y: H - PAD.bottom + 16, "text-anchor": "middle", text: opts.xFmt(v) }),
      );
    }
    root.append(xt);
    if (points.length > 1) {
      const d = points.map((p, i) => `${i ? "L" : "M"}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`);
      root.append(svg("path", { class: `series ${opts.cls}`, d: d.join(" ") }));
    } else if (opts.width) {
      const p = points[0];
      const d = `M${x(p.x).toFixed(1)},${y(p.y).toFixed(1)} L${x(p.x + opts.width).toFixed(1)},${y(p.y).toFixed(1)}`;
      root.append(svg("path", { class: `series single ${opts.cls}`, d }));
    }
    if (opts.dots !== false) {
      const dots = svg("g", { class: "points" });
      for (const p of points) {
        dots.append(
          svg("circle", { class: `dot ${opts.cls}`, cx: x(p.x), cy: y(p.y), r: 3.5 }, [tip(p.tip)]),
        );
      }
      root.append(dots);
    }
    body.replaceChildren(root);
  }

  // ------------------------------------------------------------------ plots

  /** The empty-state text of a traffic plot: nothing simulated is not "no users yet". */
  const emptyTraffic = (key) => (state.origin === "simulated" ? t("empty_simulated") : t(key));

  /** A traffic series over time, one point a bucket (the reward and the feedback-rate plots):
   *  `value` reads a bucket's figure (null: no point), `tip` says it; the rest is linePlot's. */
  function drawOverTime(data, { plot, series: key, value, tip, empty, ...opts }) {
    const body = $(plot).querySelector(".plot-body");
    const { bucket_s: bucketS, [key]: series } = traffic(data);
    const rows = (series || []).filter((r) => value(r) !== null);
    if (!rows.length) return emptyState(body, emptyTraffic(empty));
    const points = rows.map((r) => ({
      x: Date.parse(r.t),
      y: value(r),
      tip: `${formatTime(Date.parse(r.t), bucketS)}: ${tip(r)}`,
    }));
    linePlot(body, points, { ...opts, width: bucketS * 1000, xFmt: (v) => formatTime(v, bucketS) });
  }

  function drawReward(data) {
    drawOverTime(data, {
      plot: "plot-reward", series: "reward_over_time", empty: "empty_reward",
      value: (r) => r.mean_reward, tip: (r) => `${r.mean_reward.toFixed(3)} (${r.n} ${t("answers")})`,
      yMin: -1, yMax: 1, zero: true, cls: "reward", label: t("reward_title"), yFmt: (v) => v.toFixed(1),
    });
  }

  function drawRate(data) {
    drawOverTime(data, {
      plot: "plot-rate", series: "feedback_rate", empty: "empty_rate",
      value: (r) => r.rate, tip: (r) => `${Math.round(r.rate * 100)}% (${r.rated}/${r.events})`,
      yMin: 0, yMax: 1, cls: "rate", label: t("rate_title"), yFmt: (v) => `${Math.round(v * 100)}%`,
    });
  }

  function shorten(text, max) {
    return text.length > max ? `${text.slice(0, max - 1)}…` : text;
  }

  function drawActions(data) {
    const body = $("plot-actions").querySelector(".plot-body");
    const rows = traffic(data).actions || [];
    if (!rows.length) return emptyState(body, emptyTraffic("empty_actions"));
    const rowH = 22;
    const labelW = Math.min(Math.round(W * 0.42), 230);
    const height = PAD.top + rows.length * rowH + 8;
    const root = svg("svg", { viewBox: `0 0 ${W} ${height}`, role: "img", "aria-label": t("actions_title") });
    const max = Math.max(...rows.map((r) => r.served), 1);
    const x = scale(0, max, labelW, W - 60);
    rows.forEach((r, i) => {
      const top = PAD.top + i * rowH;
      const reward = r.mean_reward === null ? "—" : r.mean_reward.toFixed(2);
      const label = `${r.industry}: ${r.served} ${t("served")}, ${r.rated} ${t("rated")}, ${t("mean_reward")} ${reward}`;
      root.append(
        svg("g", { class: "hbar-row" }, [
          tip(label),
          svg("text", { class: "bar-label", x: labelW - 6, y: top + 14, "text-anchor": "end", text: shorten(r.industry, Math.floor((labelW - 8) / 7)) }),
          svg("rect", { class: "hbar", x: labelW, y: top + 3, height: rowH - 6, width: Math.max(x(r.served) - labelW, 1), rx: 2 }),
          svg("text", { class: "bar-value", x: x(r.served) + 5, y: top + 14, text: String(r.served) }),
        ]),
      );
    });
    body.replaceChildren(root);
  }

  function drawModels(data) {
    const body = $("plot-models").querySelector(".plot-body");
    const models = (data.models || []).filter((m) => m.ope && m.ope.length);
    if (!models.length) return emptyState(body, t("empty_models"));
    const names = [...new Set(models.flatMap((m) => m.ope.map((e) => e.estimator)))];
    const values = models.flatMap((m) =>
      [...m.ope, m.champion_dr || {}].flatMap((e) => [e.value, e.low, e.high]).filter((v) => v != null),
    );
    let lo = Math.min(...values, 0);
    let hi = Math.max(...values, 0);
    const pad = (hi - lo) * 0.08 || 0.1;
    lo -= pad;
    hi += pad;
    const root = frame(t("models_title"));
    const y = scale(lo, hi, H - PAD.bottom, PAD.top);
    // Each version gets a slot at most MAX_SLOT wide; a few versions sit centred.
    const MAX_SLOT = 110;
    const slot = Math.min((W - PAD.left - PAD.right) / models.length, MAX_SLOT);
    const offset = PAD.left + (W - PAD.left - PAD.right - slot * models.length) / 2;
    const modelTicks = niceTicks(lo, hi, 4);
    yAxis(root, y, modelTicks, tickFormat(modelTicks));
    xAxisLine(root);
    if (lo < 0 && hi > 0) {
      root.append(svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(0), y2: y(0), stroke: "#9aa3b2", "stroke-dasharray": "3 3" }));
    }
    models.forEach((m, i) => {
      const left = offset + i * slot;
      const cx = left + slot / 2;
      const g = svg("g", { class: m.live ? "model live" : "model", "data-version": m.version });
      if (m.live) {
        g.append(svg("rect", { class: "live-band", x: left + 2, y: PAD.top, width: slot - 4, height: H - PAD.top - PAD.bottom }));
      }
      const vLabel = m.live ? `v${m.version} · ${t("live")}` : `v${m.version}`;
      g.append(svg("text", { class: "tick-label", x: cx, y: H - PAD.bottom + 16, "text-anchor": "middle", "font-size": 11, "font-weight": m.live ? 700 : 400, fill: "#4b5563", text: vLabel }));
      // The candidate's estimators side by side, then the champion's DR on the right.
      const slots = names.length + (m.champion_dr ? 1 : 0);
      const spread = Math.min(slot * 0.6, 60);
      const at = (k) => (slots > 1 ? cx - spread / 2 + (spread * k) / (slots - 1) : cx);
      m.ope.forEach((e) => {
        const k = names.indexOf(e.estimator);
        const px = at(k);
        const color = COLORS[k % COLORS.length];
        const ci = e.low !== null && e.high !== null ? ` [${e.low.toFixed(3)}, ${e.high.toFixed(3)}]` : "";
        const point = svg("g", { class: "estimate", "data-estimator": e.estimator }, [
          tip(`${t("version")} ${m.version} · ${e.estimator}: ${e.value.toFixed(3)}${ci}`),
        ]);
        if (e.low !== null && e.high !== null) {
          point.append(
            svg("line", { class: "errbar", x1: px, x2: px, y1: y(e.low), y2: y(e.high), stroke: color }),
            svg("line", { class: "errbar", x1: px - 4, x2: px + 4, y1: y(e.low), y2: y(e.low), stroke: color }),
            svg("line", { class: "errbar", x1: px - 4, x2: px + 4, y1: y(e.high), y2: y(e.high), stroke: color }),
          );
        }
        point.append(svg("circle", { cx: px, cy: y(e.value), r: m.live ? 5 : 4, fill: color, stroke: "#fff", "stroke-width": 1 }));
        g.append(point);
      });
      if (m.champion_dr) g.append(championMark(m, at(names.length), y));
      root.append(g);
    });
    const legend = el("div", { className: "legend" });
    names.forEach((name, k) => {
      const sw = el("span", { className: "swatch" });
      sw.style.background = COLORS[k % COLORS.length];
      legend.append(el("span", {}, [sw, document.createTextNode(name.toUpperCase())]));
    });
    if (models.some((m) => m.champion_dr)) {
      legend.append(el("span", {}, [el("span", { className: "swatch hollow" }), document.createTextNode(t("champion_dr"))]));
    }
    body.replaceChildren(root, legend);
  }

  /** The champion's held-out DR estimate that version was compared with, and the decision. */
  function championMark(m, px, y) {
    const e = m.champion_dr;
    const ci = e.low !== null && e.high !== null ? ` [${e.low.toFixed(3)}, ${e.high.toFixed(3)}]` : "";
    const verdict = m.promoted ? t("promoted") : t("not_promoted");
    const mark = svg("g", { class: "champion" }, [
      tip(`${t("version")} ${m.version} · ${t("champion")} (${m.champion}) DR: ${e.value.toFixed(3)}${ci} · ${verdict}: ${m.decision}`),
    ]);
    if (e.low !== null && e.high !== null) {
      mark.append(svg("line", { x1: px, x2: px, y1: y(e.low), y2: y(e.high), stroke: "#6b7280", "stroke-width": 1.5 }));
    }
    mark.append(svg("circle", { cx: px, cy: y(e.value), r: 4 }));
    return mark;
  }

  function drawLoss(data) {
    const body = $("plot-loss").querySelector(".plot-body");
    const curve = data.loss_curve;
    if (!curve || !curve.points || !curve.points.length) return emptyState(body, t("empty_loss"));
    const points = curve.points.map(([step, loss]) => ({ x: step, y: loss, tip: `${t("step")} ${step}: ${loss.toPrecision(4)}` }));
    linePlot(body, points, {
      yMin: Math.min(0, ...points.map((p) => p.y)), cls: "loss", label: t("loss_title"),
      dots: points.length <= 40,
      xNice: true, xFmt: (v) => new Intl.NumberFormat(locale()).format(Math.round(v)),
    });
    body.append(el("p", { className: "legend", text: t("model_loss", curve.version) }));
  }

  function drawOrigin(data) {
    const counts = Object.fromEntries(
      ["real", "simulated"].map((o) => [o, ((data.traffic || {})[o] || {}).totals?.events ?? 0]),
    );
    const nf = new Intl.NumberFormat(locale());
    for (const button of document.querySelectorAll("button.origin")) {
      const origin = button.dataset.origin;
      button.textContent = t(`origin_${origin}`, nf.format(counts[origin]));
      button.setAttribute("aria-pressed", String(origin === state.origin));
    }
    let note = t("origin_note_simulated");
    if (state.origin === "real") note = counts.simulated ? t("origin_note_real", nf.format(counts.simulated)) : "";
    $("origin-note").textContent = note;
  }

  function drawStats(data) {
    const shown = traffic(data);
    const totals = shown.totals || {};
    const rate = totals.events ? `${Math.round((100 * (shown.feedback_rate || []).reduce((s, r) => s + r.rated, 0)) / totals.events)}%` : "—";
    const stat = (value, label) =>
      el("div", { className: "stat" }, [
        el("span", { className: "stat-value", text: value }),
        el("span", { className: "stat-label", text: label }),
      ]);
    const nf = new Intl.NumberFormat(locale());
    $("stats").replaceChildren(
      stat(nf.format(totals.events ?? 0), t("stat_events")),
      stat(nf.format(totals.feedback ?? 0), t("stat_feedback")),
      stat(rate, t("stat_rate")),
      stat(totals.mean_reward == null ? "—" : totals.mean_reward.toFixed(3), t("stat_reward")),
      stat(data.live_version == null ? t("model_none") : `v${data.live_version}`, t("stat_model")),
    );
  }

  // The catalog's age: a 2023 catalog must not pass for a fresh one.
  function drawCatalog(data) {
    const c = data.catalog;
    const node = $("catalog-note");
    if (!c) {
      node.textContent = "";
      return;
    }
    const date = (iso) => (iso ? new Date(iso).toLocaleDateString(locale()) : "—");
    const nf = new Intl.NumberFormat(locale());
    const r = c.last_refresh;
    const refresh = !r
      ? t("catalog_never")
      : r.error && !r.collected
        ? t("catalog_refresh_failed", date(r.finished_at))
        : t("catalog_refresh", date(r.finished_at), nf.format(r.inserted), nf.format(r.retired));
    node.textContent = `${t("catalog_age", nf.format(c.served), date(c.newest_published_at))} ${refresh}`;
  }

  // ------------------------------------------------------------------ page

  function render() {
    document.documentElement.lang = state.lang;
    document.title = t("page_title");
    for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
    const sw = $("lang-switch");
    sw.textContent = t("switch_to");
    sw.setAttribute("aria-label", t("switch_label"));
    sw.lang = state.lang === "ru" ? "en" : "ru";
    const error = $("load-error");
    const message = state.tokenRejected ? t("token_wrong") : state.error ? t("load_error", state.error) : "";
    error.hidden = !message;
    error.textContent = message;
    $("token-form").hidden = !state.needToken;
    const data = state.data;
    if (!data) return;
    const body = document.querySelector(".plot-body");
    if (body && body.clientWidth) W = Math.max(300, Math.min(640, Math.round(body.clientWidth)));
    $("updated").textContent = t("updated", new Date().toLocaleTimeString(locale()));
    drawOrigin(data);
    drawStats(data);
    drawCatalog(data);
    drawReward(data);
    drawRate(data);
    drawActions(data);
    drawModels(data);
    drawLoss(data);
    document.body.dataset.ready = "true";
  }

  async function load() {
    try {
      const headers = token ? { Authorization: `Bearer ${token}` } : {};
      const response = await fetch("/api/v1/dashboard", { headers, cache: "no-store" });
      if (response.status === 401) {
        const asked = state.needToken;
        state.tokenRejected = Boolean(token);
        token = null;
        storeToken(null);
        state.needToken = true;
        state.error = null;
        render();
        if (!asked) $("token").focus();
        return;
      }
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      state.data = await response.json();
      state.error = null;
      state.needToken = false;
      state.tokenRejected = false;
    } catch (err) {
      state.error = err.message;
    }
    render();
  }

  function start() {
    for (const button of document.querySelectorAll("button.origin")) {
      button.addEventListener("click", () => {
        state.origin = button.dataset.origin;
        render();
      });
    }
    $("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      token = $("token").value.trim();
      $("token").value = "";
      storeToken(token);
      load();
    });
    $("lang-switch").addEventListener("click", () => {
      state.lang = state.lang === "ru" ? "en" : "ru";
      saveLang(state.lang);
      render();
    });
    render();
    load();
    window.setInterval(load, REFRESH_MS);
    let resizeTimer = 0;
    window.addEventListener("resize", () => {
      window.clearTimeout(resizeTimer);
      resizeTimer = window.setTimeout(render, 150);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
