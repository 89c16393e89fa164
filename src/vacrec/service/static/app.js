// The job seeker's page: ask for recommendations, show cards, collect votes.
// Plain browser JavaScript, no build step and no third-party code.
// Every piece of text that comes from data goes in through textContent or
// element attributes set one by one — never through innerHTML.
"use strict";

(function () {
  const { loadLang, saveLang, translator, $, el } = window.vacrecCommon;
  const MAX_BARS = 6; // industries shown in the "why" chart (the chosen one always is)

  const I18N = {
    ru: {
      page_title: "Подбор вакансий",
      brand: "Подбор вакансий",
      nav_dashboard: "Панель",
      switch_to: "EN",
      switch_label: "Switch to English",
      form_title: "Найдём вакансии для вас",
      form_hint:
        "Укажите возраст, навык и что для вас важно — мы подберём до пяти вакансий. " +
        "Оцените их, и подбор станет точнее.",
      age_label: "Возраст",
      age_hint: "от 14 до 100 лет",
      skill_label: "Навык",
      skill_loading: "Загружаем список…",
      skill_choose: "— выберите навык —",
      pref_label: "Пожелания",
      pref_placeholder: "Например: удалённо, иллюстрация, гибкий график",
      submit: "Подобрать вакансии",
      submitting: "Подбираем…",
      send: "Отправить оценки",
      sending: "Отправляем…",
      why_title: "Почему эта отрасль",
      results_title: (industry) => `Вакансии: ${industry}`,
      no_items: "В этой отрасли пока нет вакансий. Попробуйте ещё раз.",
      fallback:
        "Ничего не совпало с вашими пожеланиями, поэтому показываем самые свежие вакансии отрасли.",
      salary_none: "з/п не указана",
      open_posting: "Открыть вакансию (в новой вкладке)",
      vote_group: (name) => `Оценка вакансии «${name}»`,
      vote_up: "Подходит",
      vote_down: "Не подходит",
      vote_hint: (n, total) =>
        n === 0 ? "Отметьте хотя бы одну вакансию: подходит или нет." : `Оценено ${n} из ${total}.`,
      sent: (reward) => `Спасибо! Оценки сохранены. Награда агенту: ${reward}.`,
      q_value: "оценка",
      q_caption: "Полоса — ожидаемая оценка подборки из этой отрасли (от −1 до 1) по мнению агента.",
      q_chosen: "выбрано",
      why_greedy:
        "Агент выбрал отрасль с наибольшей ожидаемой оценкой для вашего возраста и навыка.",
      why_explore: (best) =>
        `В этот раз агент попробовал другую отрасль, чтобы узнать больше; ` +
        `лучшая по его оценке — «${best}».`,
      why_untrained:
        "Агент ещё не обучен: отрасль выбрана случайно, чтобы узнать, что нравится людям " +
        "с похожим профилем.",
      why_exploring: "В этот раз агент исследует: отрасль выбрана случайно.",
      why_more: (n) => `и ещё ${n}`,
      err_age: "Возраст: введите целое число от 14 до 100.",
      err_skill: "Навык: выберите навык из списка.",
      err_network: "Сервер недоступен. Проверьте соединение и попробуйте ещё раз.",
      err_skills_load: "Не удалось загрузить список навыков.",
      err_404: "Эта подборка не найдена — запросите вакансии заново.",
      err_409: "Эта подборка уже оценена.",
      err_410: "Время для оценки этой подборки истекло — запросите вакансии заново.",
      err_server: (status) => `Ошибка сервера (${status}). Попробуйте позже.`,
      err_generic: (status) => `Запрос не выполнен (${status}).`,
    },
    en: {
      page_title: "Job finder",
      brand: "Job finder",
      nav_dashboard: "Dashboard",
      switch_to: "RU",
      switch_label: "Переключить на русский",
      form_title: "Let's find vacancies for you",
      form_hint:
        "Give your age, a skill and what matters to you — we'll pick up to five vacancies. " +
        "Rate them and the picks get better.",
      age_label: "Age",
      age_hint: "14 to 100 years",
      skill_label: "Skill",
      skill_loading: "Loading the list…",
      skill_choose: "— choose a skill —",
      pref_label: "Preferences",
      pref_placeholder: "For example: remote, illustration, flexible hours",
      submit: "Find vacancies",
      submitting: "Searching…",
      send: "Send ratings",
      sending: "Sending…",
      why_title: "Why this industry",
      results_title: (industry) => `Vacancies: ${industry}`,
      no_items: "No vacancies in this industry yet. Please try again.",
      fallback: "Nothing matched your preferences, so these are the industry's newest vacancies.",
      salary_none: "salary not specified",
      open_posting: "Open the posting (new tab)",
      vote_group: (name) => `Rate the vacancy “${name}”`,
      vote_up: "Good fit",
      vote_down: "Not for me",
      vote_hint: (n, total) =>
        n === 0 ? "Mark at least one vacancy as a good fit or not." : `${n} of ${total} rated.`,
      sent: (reward) => `Thank you! Your ratings are saved. Reward to the agent: ${reward}.`,
      q_value: "score",
      q_caption: "Each bar is the agent's expected rating (−1 to 1) for a pick from that industry.",
      q_chosen: "chosen",
      why_greedy: "The agent chose the industry with the highest expected rating for your age and skill.",
      why_explore: (best) =>
        `This time the agent tried another industry to learn more; its best guess is “${best}”.`,
      why_untrained:
        "The agent is not trained yet: the industry was picked at random to learn what people " +
        "like you prefer.",
      why_exploring: "This time the agent is exploring: the industry was picked at random.",
      why_more: (n) => `and ${n} more`,
      err_age: "Age: enter a whole number from 14 to 100.",
      err_skill: "Skill: choose a skill from the list.",
      err_network: "The server cannot be reached. Check your connection and try again.",
      err_skills_load: "Could not load the list of skills.",
      err_404: "This set of recommendations was not found — please search again.",
      err_409: "This set of recommendations has already been rated.",
      err_410: "The time to rate this set has run out — please search again.",
      err_server: (status) => `Server error (${status}). Please try later.`,
      err_generic: (status) => `The request failed (${status}).`,
    },
  };

  const state = {
    lang: loadLang(I18N),
    skillsLoaded: false,
    result: null, // the last recommendation response
    votes: new Map(), // vacancy id -> 1 | -1
    sent: null, // {reward} once the votes are stored
    sendError: null, // message of the last failed send
    closed: false, // the event can no longer take votes (404/409/410)
  };

  const isLocked = () => state.sent !== null || state.closed;

  const t = translator(I18N, () => state.lang);

  // ------------------------------------------------------------------ language

  function applyLanguage() {
    document.documentElement.lang = state.lang;
    document.title = t("page_title");
    for (const node of document.querySelectorAll("[data-i18n]")) {
      node.textContent = t(node.dataset.i18n);
    }
    for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
      node.placeholder = t(node.dataset.i18nPlaceholder);
    }
    const sw = $("lang-switch");
    sw.textContent = t("switch_to");
    sw.setAttribute("aria-label", t("switch_label"));
    sw.lang = state.lang === "ru" ? "en" : "ru";
    const first = $("skill").options[0];
    if (first && first.value === "") {
      first.textContent = state.skillsLoaded ? t("skill_choose") : t("skill_loading");
    }
    if (state.result) renderResult();
  }

  function switchLanguage() {
    state.lang = state.lang === "ru" ? "en" : "ru";
    saveLang(state.lang);
    applyLanguage();
  }

  // ------------------------------------------------------------------ API

  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  function describeError(status, body) {
    const detail = body && (body.detail ?? body.details ?? body.message ?? body.error);
    if (Array.isArray(detail) && detail.length) {
      return detail
        .map((item) => {
          if (!item || typeof item !== "object") return String(item);
          const loc = Array.isArray(item.loc) ? item.loc.filter((p) => p !== "body") : [];
          return (loc.length ? loc.join(".") + ": " : "") + (item.msg ?? JSON.stringify(item));
        })
        .join("; ");
    }
    if (typeof detail === "string" && detail) return detail;
    if (detail && typeof detail === "object") return JSON.stringify(detail);
    if (status === 404 || status === 409 || status === 410) return t(`err_${status}`);
    if (status >= 500) return t("err_server", status);
    return t("err_generic", status);
  }

  async function api(method, path, body) {
    let response;
    try {
      response = await fetch(path, {
        method,
        headers: body === undefined ? {} : { "Content-Type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch (_) {
      throw new ApiError(0, t("err_network"));
    }
    let data = null;
    try {
      data = await response.json();
    } catch (_) {
      data = null;
    }
    if (!response.ok) throw new ApiError(response.status, describeError(response.status, data));
    return data;
  }

  // ------------------------------------------------------------------ form

  function skillNames(data) {
    const list = Array.isArray(data) ? data : data && (data.skills ?? data.items ?? []);
    return (list || [])
      .map((s) => (typeof s === "string" ? s : s && (s.name ?? s.skill)))
      .filter((s) => typeof s === "string" && s);
  }

  async function loadSkills() {
    const select = $("skill");
    try {
      const names = skillNames(await api("GET", "/api/v1/skills"));
      state.skillsLoaded = true;
      select.replaceChildren(el("option", { value: "", text: t("skill_choose") }));
      for (const name of names) select.append(el("option", { value: name, text: name }));
    } catch (err) {
      showFormError(`${t("err_skills_load")} ${err.message}`);
    }
  }

  function showFormError(message) {
    const box = $("form-error");
    box.textContent = message || "";
    box.hidden = !message;
  }

  function readForm() {
    const ageText = $("age").value.trim();
    const age = Number(ageText);
    if (!/^\d+$/.test(ageText) || age < 14 || age > 100) return { error: t("err_age"), focus: "age" };
    const skill = $("skill").value;
    if (!skill) return { error: t("err_skill"), focus: "skill" };
    return { body: { age, skill, preference: $("preference").value, k: 5 } };
  }

  async function onSubmit(event) {
    event.preventDefault();
    const form = readForm();
    $("age").setAttribute("aria-invalid", String(form.focus === "age"));
    $("skill").setAttribute("aria-invalid", String(form.focus === "skill"));
    if (form.error) {
      showFormError(form.error);
      $(form.focus).focus();
      return;
    }
    showFormError("");
    const button = $("submit");
    button.disabled = true;
    button.textContent = t("submitting");
    $("search-form").setAttribute("aria-busy", "true");
    try {
      state.result = await api("POST", "/api/v1/recommendations", form.body);
      state.votes = new Map();
      state.sent = null;
      state.sendError = null;
      state.closed = false;
      renderResult();
      $("results").scrollIntoView({ behavior: "smooth", block: "start" });
    } catch (err) {
      showFormError(err.message);
    } finally {
      button.disabled = false;
      button.textContent = t("submit");
      $("search-form").removeAttribute("aria-busy");
    }
  }

  // ------------------------------------------------------------------ cards

  function safeUrl(value, protocols) {
    if (typeof value !== "string" || !value) return null;
    try {
      const url = new URL(value, window.location.href);
      return protocols.includes(url.protocol) ? url.href : null;
    } catch (_) {
      return null;
    }
  }

  function formatSalary(salary) {
    if (salary === null || salary === undefined || salary === "") return null;
    const number = typeof salary === "number" ? salary : Number(String(salary).replace(/\s/g, ""));
    if (Number.isFinite(number)) {
      if (number <= 0) return null;
      const locale = state.lang === "ru" ? "ru-RU" : "en-US";
      return `${new Intl.NumberFormat(locale, { maximumFractionDigits: 0 }).format(number)} ₽`;
    }
    return String(salary);
  }

  // 👍 / 👎 drawn as SVG, so they look the same whether or not the system has an emoji font.
  const THUMB_PATH =
    "M1 21h4V9H1v12zm22-11c0-1.1-.9-2-2-2h-6.31l.95-4.57.03-.32c0-.41-.17-.79-.44-1.06" +
    "L14.17 1 7.59 7.59C7.22 7.95 7 8.45 7 9v10c0 1.1.9 2 2 2h9c.83 0 1.54-.5 1.84-1.22" +
    "l3.02-7.05c.09-.23.14-.47.14-.73v-2z";

  function thumb(down) {
    const ns = "http://www.w3.org/2000/svg";
    const icon = document.createElementNS(ns, "svg");
    icon.setAttribute("viewBox", "0 0 24 24");
    icon.setAttribute("width", "20");
    icon.setAttribute("height", "20");
    icon.setAttribute("aria-hidden", "true");
    icon.setAttribute("focusable", "false");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", THUMB_PATH);
    path.setAttribute("fill", "currentColor");
    if (down) path.setAttribute("transform", "rotate(180 12 12)");
    icon.append(path);
    return icon;
  }

  function renderCard(item) {
    const name = String(item.name ?? "");
    const href = safeUrl(item.url, ["http:", "https:"]);
    const title = href
      ? el("a", { href, target: "_blank", rel: "noopener noreferrer", title: t("open_posting") }, [
          document.createTextNode(name),
          el("span", { className: "ext", "aria-hidden": "true", text: "\u00a0↗" }),
        ])
      : document.createTextNode(name);

    const logoUrl = safeUrl(item.logo, ["https:", "http:"]);
    let logo = null;
    if (logoUrl) {
      logo = el("img", { className: "logo", src: logoUrl, alt: "", width: 48, height: 48, loading: "lazy" });
      logo.addEventListener("error", () => logo.remove());
    }

    const salary = formatSalary(item.salary);
    const vote = state.votes.get(String(item.id));
    const locked = isLocked();
    const voteButton = (value, cls, label) =>
      el(
        "button",
        {
          type: "button",
          className: `vote ${cls}`,
          "aria-pressed": String(vote === value),
          "aria-label": label,
          title: label,
          disabled: locked,
        },
        [thumb(value === -1)],
      );
    const up = voteButton(1, "up", t("vote_up"));
    const down = voteButton(-1, "down", t("vote_down"));
    up.addEventListener("click", () => toggleVote(item.id, 1));
    down.addEventListener("click", () => toggleVote(item.id, -1));

    return el("li", { className: "card", "data-id": item.id }, [
      el("div", { className: "card-head" }, [
        logo,
        el("div", { className: "card-titles" }, [
          el("h3", { className: "card-title" }, [title]),
          item.company ? el("p", { className: "company", text: String(item.company) }) : null,
        ]),
      ]),
      el("p", { className: salary ? "salary" : "salary none", text: salary ?? t("salary_none") }),
      item.snippet ? el("p", { className: "snippet", text: String(item.snippet) }) : null,
      el("div", { className: "votes", role: "group", "aria-label": t("vote_group", name) }, [up, down]),
    ]);
  }

  function toggleVote(id, value) {
    if (isLocked()) return;
    const key = String(id);
    if (state.votes.get(key) === value) state.votes.delete(key);
    else state.votes.set(key, value);
    state.sendError = null;
    renderResult();
    const card = document.querySelector(`.card[data-id="${CSS.escape(key)}"]`);
    const again = card && card.querySelector(value === 1 ? ".vote.up" : ".vote.down");
    if (again) again.focus();
  }

  function renderResult() {
    const result = state.result;
    const items = Array.isArray(result.items) ? result.items : [];
    const industry = (result.action && result.action.industry) || "";
    $("results").hidden = false;
    $("results-title").textContent = t("results_title", industry);
    const fallback = $("fallback-note");
    fallback.hidden = !(result.fallback && items.length);
    fallback.textContent = t("fallback");

    const cards = $("cards");
    cards.replaceChildren(...items.map(renderCard));
    if (!items.length) cards.append(el("li", { className: "empty", text: t("no_items") }));

    const send = $("send");
    $("feedback-bar").hidden = !items.length;
    send.textContent = t("send");
    send.disabled = isLocked() || state.votes.size === 0;
    $("vote-hint").textContent = t("vote_hint", state.votes.size, items.length);

    const status = $("feedback-status");
    if (state.sent) {
      status.className = "confirm";
      status.textContent = t("sent", Number(state.sent.reward).toFixed(2));
    } else if (state.sendError) {
      status.className = "error";
      status.textContent = state.sendError;
    } else {
      status.className = "";
      status.textContent = "";
    }
    renderWhy(result);
  }

  async function onSend() {
    const result = state.result;
    if (!result || isLocked() || state.votes.size === 0) return;
    const votes = [...state.votes].map(([vacancy_id, vote]) => ({ vacancy_id, vote }));
    const send = $("send");
    send.disabled = true;
    send.textContent = t("sending");
    try {
      const data = await api("POST", "/api/v1/feedback", { event_id: result.event_id, votes });
      state.sent = { reward: data && typeof data.reward === "number" ? data.reward : 0 };
    } catch (err) {
      state.sendError = err.message;
      // Unknown, already rated or expired: this set can no longer take votes.
      state.closed = [404, 409, 410].includes(err.status);
    }
    renderResult();
  }

  // ------------------------------------------------------------------ why

  function renderWhy(result) {
    const section = $("why");
    const chart = $("qchart");
    const note = $("why-note");
    section.hidden = false;
    const chosen = result.action && result.action.industry;
    const raw = result.explanation && result.explanation.q_values;
    const qs = Array.isArray(raw)
      ? raw.filter((r) => r && typeof r.q === "number" && Number.isFinite(r.q))
      : [];
    if (!qs.length) {
      chart.replaceChildren();
      note.textContent = result.model_version == null ? t("why_untrained") : t("why_exploring");
      return;
    }
    const sorted = [...qs].sort((a, b) => b.q - a.q);
    const best = sorted[0];
    note.textContent = best.industry === chosen ? t("why_greedy") : t("why_explore", best.industry);

    let shown = sorted.slice(0, MAX_BARS);
    const chosenRow = sorted.find((r) => r.industry === chosen);
    if (chosenRow && !shown.includes(chosenRow)) shown = [...shown.slice(0, MAX_BARS - 1), chosenRow];

    const lo = Math.min(0, ...shown.map((r) => r.q));
    const hi = Math.max(0, ...shown.map((r) => r.q));
    const span = hi - lo || 1;
    const zero = ((0 - lo) / span) * 100;
    const list = el("ol", { className: "qlist" });
    for (const row of shown) {
      const isChosen = row.industry === chosen;
      const bar = el("span", { className: row.q < 0 ? "qbar neg" : "qbar" });
      bar.style.left = `${row.q < 0 ? zero - (Math.abs(row.q) / span) * 100 : zero}%`;
      bar.style.width = `${Math.max((Math.abs(row.q) / span) * 100, 0.5)}%`;
      const axis = el("span", { className: "qzero" });
      axis.style.left = `${zero}%`;
      list.append(
        el("li", { className: isChosen ? "qrow chosen" : "qrow" }, [
          el("span", { className: "qlabel" }, [
            el("span", { className: "qname", text: String(row.industry) }),
            isChosen ? el("span", { className: "badge", text: t("q_chosen") }) : null,
          ]),
          el("span", { className: "qtrack", "aria-hidden": "true" }, [axis, bar]),
          el("span", { className: "qval" }, [
            el("span", { className: "sr-only", text: `${t("q_value")} ` }),
            document.createTextNode(row.q.toFixed(2)),
          ]),
        ]),
      );
    }
    const rest = sorted.length - shown.length;
    chart.replaceChildren(list);
    if (rest > 0) chart.append(el("p", { className: "hint more", text: t("why_more", rest) }));
    chart.append(el("p", { className: "hint more", text: t("q_caption") }));
  }

  // ------------------------------------------------------------------ start

  function start() {
    $("lang-switch").addEventListener("click", switchLanguage);
    $("search-form").addEventListener("submit", onSubmit);
    $("send").addEventListener("click", onSend);
    const pref = $("preference");
    const count = () => ($("pref-count").textContent = `${pref.value.length} / ${pref.maxLength}`);
    pref.addEventListener("input", count);
    count();
    applyLanguage();
    loadSkills();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
