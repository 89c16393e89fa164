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
      results_found: (n, industry) => `Подобрано вакансий: ${n}, отрасль «${industry}».`,
      no_items: "В этой отрасли пока нет вакансий. Попробуйте ещё раз.",
      no_items_left:
        "Все вакансии этой отрасли вы уже отклонили. Измените пожелания или навык и попробуйте ещё раз.",
      fallback:
        "Ни одна вакансия этой отрасли не совпала с вашими словами, поэтому показываем " +
        "самые близкие к ним по смыслу (или самые свежие).",
      fallback_blank: "Вы не написали пожеланий, поэтому показываем самые свежие вакансии отрасли.",
      few_matches: (n) =>
        n
          ? `С вашими словами совпадают только ${n} из этих вакансий: других таких в этой отрасли нет, остальные — просто её вакансии.`
          : "Хорошо с вашими словами не совпала ни одна вакансия этой отрасли: это просто её вакансии.",
      card_match: "Совпадает с вашими словами",
      card_unmatched: "Не по вашему запросу — вакансия этой отрасли",
      card_weak: (words) => `Слабое совпадение: общие только слова ${words}`,
      card_words: (words) => `Совпали слова: ${words}`,
      card_recent: "Вакансия этой отрасли",
      salary_none: "з/п не указана",
      area_label: "Город",
      area_hint: "необязательно: вакансии в этом городе и удалённые — первыми",
      format_label: "Формат работы",
      format_any: "Удалённо или в офисе",
      format_remote: "Только удалённо",
      format_office: "Только в офисе",
      schedule_remote: "Удалённо",
      schedule_fullDay: "Офис, полный день",
      schedule_shift: "Офис, сменный график",
      schedule_flexible: "Офис, гибкий график",
      schedule_flyInFlyOut: "Вахта",
      experience_noExperience: "Без опыта",
      experience_between1And3: "Опыт 1–3 года",
      experience_between3And6: "Опыт 3–6 лет",
      experience_moreThan6: "Опыт более 6 лет",
      published: (date) => `Опубликована ${date}`,
      area_unknown: "Город не указан",
      also_in: (n) => {
        const tail = n % 10 === 1 && n % 100 !== 11 ? "городе" : "городах";
        return `ещё в ${n} ${tail}`;
      },
      also_in_title: (names) => `Эта же вакансия: ${names.join(", ")}`,
      // Why a card does not fit the place asked for: what was asked decides what to say.
      card_elsewhere: "Не в выбранном городе",
      card_not_remote: "Не удалённая работа",
      card_not_office: "Удалённая, а не в офисе",
      card_not_in: (city) => `Не в городе ${city} и не удалённая`,
      card_not_in_city: (city) => `Не в городе ${city}`,
      place_note: (parts, words) => `${parts.join(", ")}${words ? " — поняли из ваших пожеланий." : "."}`,
      // A place said in the words reorders only cards that match the words about as well.
      place_city: (city, words) =>
        `Сначала вакансии в городе ${city} и удалённые` +
        (words ? " (если они подходят по словам не хуже)" : ""),
      place_remote: "только удалённая работа",
      place_office: "только работа в офисе",
      open_posting: "Открыть вакансию (в новой вкладке)",
      vote_group: (name) => `Оценка вакансии «${name}»`,
      vote_up: "Подходит",
      vote_down: "Не подходит",
      vote_hint: (n, total) =>
        n === 0 ? "Отметьте хотя бы одну вакансию: подходит или нет." : `Оценено ${n} из ${total}.`,
      sent: (up, down) =>
        `Спасибо, оценки сохранены. Подходит: ${up}, не подходит: ${down}. ` +
        (down
          ? "Отклонённые вакансии больше не покажем — нажмите «Подобрать вакансии» ещё раз."
          : "Нажмите «Подобрать вакансии» ещё раз, чтобы увидеть следующие."),
      session_rejected: (n) => `Вакансии, отмеченные «Не подходит» (${n}), больше не показываем.`,
      session_avoided: (names) =>
        `Вакансии отрасли ${names.map((n) => `«${n}»`).join(", ")} вы в основном отклоняли — ` +
        "теперь предлагаем её в последнюю очередь.",
      session_repeat: (n) =>
        `Новых вакансий этой отрасли больше нет, поэтому повторяем уже показанные: ${n}.`,
      why_col_industry: "Отрасль",
      why_col_match: "Совпадение с вашими словами",
      why_col_learned: "Поправка по оценкам",
      why_chosen: "выбрано",
      why_no_learned: "пока нет оценок",
      why_prior:
        "Пока оценок мало, поэтому отрасль выбрана по тому, насколько её вакансии похожи " +
        "на ваш запрос.",
      why_prior_blank:
        "Пока оценок мало, а пожеланий вы не написали, поэтому отрасль выбрана по тому, " +
        "насколько её вакансии подходят к вашему навыку.",
      why_prior_explore: (best) =>
        "Пока оценок мало. В этот раз мы пробуем другую отрасль, чтобы узнать, что вам может " +
        `подойти; ближе всего к вашему запросу вакансии отрасли «${best}».`,
      why_model_both:
        "Эта отрасль подходит лучше всего: её вакансии похожи на ваш запрос, и люди с похожим " +
        "профилем оценивали такие подборки хорошо.",
      why_model_words:
        "Вакансии этой отрасли хорошо совпадают с вашим запросом; оценки людей с похожим " +
        "профилем её не подняли, но и не перевесили совпадение.",
      why_model_rated: (closest) =>
        `Слова вашего запроса лучше совпадают с вакансиями отрасли «${closest}», но эту ` +
        "отрасль люди с похожим профилем оценивали заметно лучше, поэтому выбрана она.",
      why_model_ratings:
        "С вашим запросом почти ничего не совпало, поэтому отрасль выбрана по тому, что хорошо " +
        "оценивали люди с похожим профилем.",
      why_model_blank:
        "Пожеланий вы не написали, поэтому отрасль выбрана по вашему навыку и по тому, что " +
        "хорошо оценивали люди с похожим профилем.",
      why_model_explore: (best) =>
        "В этот раз мы пробуем другую отрасль, чтобы лучше узнать, что вам подходит; по " +
        `совпадению с запросом и оценкам лучше всего подходит «${best}».`,
      why_none: "Сведений о выборе отрасли нет.",
      why_more: (n) => `Ещё отраслей ниже по списку: ${n}.`,
      why_foot_match:
        "Совпадение: 100 % у отрасли, чьи лучшие вакансии ближе всего к вашим пожеланиям " +
        "(и немного — к навыку); у остальных — доля от неё.",
      why_foot_learned: (lo, hi, n) =>
        `Поправка по оценкам: от ${lo} до ${hi} по всем отраслям (${n}) — насколько оценки ` +
        "людей с похожим профилем подняли (+) или опустили (−) отрасль относительно остальных; " +
        "+1 — примерно как одна подборка, понравившаяся целиком.",
      why_foot_no_learned:
        "Поправка по оценкам: «—», пока оценок мало; она появится, когда люди оценят " +
        "достаточно подборок.",
      why_foot_order: "Отрасли упорядочены по обоим значениям вместе.",
      err_age: "Возраст: введите целое число от 14 до 100.",
      err_area: (close) =>
        "Город: в каталоге нет вакансий в этом городе." +
        (close ? ` Может быть, ${close}?` : " Выберите город из подсказок или оставьте поле пустым."),
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
      results_found: (n, industry) =>
        `${n} ${n === 1 ? "vacancy" : "vacancies"} found in “${industry}”.`,
      no_items: "No vacancies in this industry yet. Please try again.",
      no_items_left:
        "You have turned down every vacancy in this industry. Change your preferences or skill " +
        "and try again.",
      fallback:
        "No vacancy in this industry matched your words, so these are the closest to them " +
        "in meaning (or the newest).",
      fallback_blank: "You wrote no preferences, so these are the industry's newest vacancies.",
      few_matches: (n) =>
        n
          ? `Only ${n} of these vacancies match your words: the industry has no more such, the rest are just its vacancies.`
          : "No vacancy in this industry matches your words well: these are just its vacancies.",
      card_match: "Matches your words",
      card_unmatched: "Not matching your words — a vacancy in this industry",
      card_weak: (words) => `Weak match: shares only ${words}`,
      card_words: (words) => `Matched words: ${words}`,
      card_recent: "A vacancy in this industry",
      salary_none: "salary not specified",
      area_label: "City",
      area_hint: "optional: jobs in this city and remote ones come first",
      format_label: "Work format",
      format_any: "Remote or office",
      format_remote: "Remote only",
      format_office: "Office only",
      schedule_remote: "Remote",
      schedule_fullDay: "Office, full day",
      schedule_shift: "Office, shifts",
      schedule_flexible: "Office, flexible hours",
      schedule_flyInFlyOut: "Fly-in fly-out",
      experience_noExperience: "No experience needed",
      experience_between1And3: "1–3 years' experience",
      experience_between3And6: "3–6 years' experience",
      experience_moreThan6: "Over 6 years' experience",
      published: (date) => `Published ${date}`,
      area_unknown: "City not stated",
      also_in: (n) => `also in ${n} ${n === 1 ? "city" : "cities"}`,
      also_in_title: (names) => `The same job: ${names.join(", ")}`,
      card_elsewhere: "Not in the city you chose",
      card_not_remote: "Not remote work",
      card_not_office: "Remote, not in an office",
      card_not_in: (city) => `Not in ${city}, and not remote`,
      card_not_in_city: (city) => `Not in ${city}`,
      place_note: (parts, words) => `${parts.join(", ")}${words ? " — understood from your preferences." : "."}`,
      place_city: (city, words) =>
        `Jobs in ${city} and remote ones first` + (words ? " (when they match your words as well)" : ""),
      place_remote: "remote work only",
      place_office: "office work only",
      open_posting: "Open the posting (new tab)",
      vote_group: (name) => `Rate the vacancy “${name}”`,
      vote_up: "Good fit",
      vote_down: "Not for me",
      vote_hint: (n, total) =>
        n === 0 ? "Mark at least one vacancy as a good fit or not." : `${n} of ${total} rated.`,
      sent: (up, down) =>
        `Thank you, your ratings are saved. Good fit: ${up}, not for me: ${down}. ` +
        (down
          ? "Vacancies you turned down won't be shown again — press “Find vacancies” for more."
          : "Press “Find vacancies” again to see the next ones."),
      session_rejected: (n) => `${n} ${n === 1 ? "vacancy" : "vacancies"} you marked “Not for me” won't be shown again.`,
      session_avoided: (names) =>
        `You mostly turned down vacancies in ${names.map((n) => `“${n}”`).join(", ")}, so ` +
        "that industry now comes last for you.",
      session_repeat: (n) =>
        `There are no more new vacancies in this industry, so ${n} already shown ${n === 1 ? "is" : "are"} repeated.`,
      why_col_industry: "Industry",
      why_col_match: "Match with your words",
      why_col_learned: "Learned from ratings",
      why_chosen: "chosen",
      why_no_learned: "no ratings yet",
      why_prior:
        "There are too few ratings to learn from yet, so the industry is the one whose " +
        "vacancies best match your words.",
      why_prior_blank:
        "There are too few ratings to learn from yet and you wrote no preferences, so the " +
        "industry is the one whose vacancies best fit your skill.",
      why_prior_explore: (best) =>
        "There are too few ratings to learn from yet. This time we are trying another industry " +
        `to learn what may suit you; the vacancies closest to your words are in “${best}”.`,
      why_model_both:
        "This industry fits best: its vacancies match your words, and people like you rated " +
        "such picks well.",
      why_model_words:
        "This industry's vacancies match your words well; ratings by people like you did not " +
        "raise it, but did not outweigh the match either.",
      why_model_rated: (closest) =>
        `Your words match the vacancies in “${closest}” better, but people like you rated ` +
        "this industry clearly better, so it was chosen.",
      why_model_ratings:
        "Almost nothing matched your words, so the industry is the one people like you " +
        "rated well.",
      why_model_blank:
        "You wrote no preferences, so the industry was chosen by your skill and by what " +
        "people like you rated well.",
      why_model_explore: (best) =>
        "This time we are trying another industry to learn more about what suits you; by match " +
        `and ratings, the best fit is “${best}”.`,
      why_none: "No details about the choice of industry.",
      why_more: (n) => (n === 1 ? "1 more industry ranks lower." : `${n} more industries rank lower.`),
      why_foot_match:
        "Match: 100% for the industry whose best vacancies come closest to your preferences " +
        "(and, a little, your skill); the others as a share of it.",
      why_foot_learned: (lo, hi, n) =>
        `Learned from ratings: ${lo} to ${hi} across all ${n} industries — how much ratings by ` +
        "people like you raised (+) or lowered (−) the industry compared with the others; " +
        "+1 is roughly one set of picks liked in full.",
      why_foot_no_learned:
        "Learned from ratings: “—” while there are few ratings; it appears once people have " +
        "rated enough picks.",
      why_foot_order: "Industries are ordered by both values together.",
      err_age: "Age: enter a whole number from 14 to 100.",
      err_area: (close) =>
        "City: the catalog has no vacancies there." +
        (close ? ` Did you mean ${close}?` : " Pick a city from the suggestions or leave it empty."),
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
    query: "", // the preference that produced it (trimmed)
    votes: new Map(), // vacancy id -> 1 | -1
    sent: null, // {up, down}: how many "good fit" / "not for me" votes were stored
    sendError: null, // message of the last failed send
    closed: false, // the event can no longer take votes (404/409/410)
  };

  const isLocked = () => state.sent !== null || state.closed;

  // ------------------------------------------------------------------ this tab's session

  // One session per tab: the server never shows again what it rejected here, and gives the
  // next best cards when asked again. The id names a tab, not a person, and opens nothing.
  const SESSION_KEY = "vacrec.session";
  const PAGE_KEY = "vacrec.page"; // the last answer and its unsent votes, kept over a reload

  function tabStorage() {
    try {
      return window.sessionStorage;
    } catch (err) {
      return null; // storage disabled: the page still works, without memory
    }
  }

  function sessionId() {
    const store = tabStorage();
    let id = store && store.getItem(SESSION_KEY);
    if (!id) {
      const bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      id = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
      if (store) store.setItem(SESSION_KEY, id);
    }
    return id;
  }

  function savePage() {
    const store = tabStorage();
    if (!store || !state.result) return;
    const saved = {
      result: state.result,
      query: state.query,
      votes: [...state.votes],
      sent: state.sent,
      closed: state.closed,
    };
    try {
      store.setItem(PAGE_KEY, JSON.stringify(saved));
    } catch (err) {
      // full storage: a reload will only lose the unsent votes
    }
  }

  function restorePage() {
    const store = tabStorage();
    const raw = store && store.getItem(PAGE_KEY);
    if (!raw) return false;
    try {
      const saved = JSON.parse(raw);
      if (!saved || typeof saved.result !== "object" || !Array.isArray(saved.votes)) return false;
      state.result = saved.result;
      state.query = typeof saved.query === "string" ? saved.query : "";
      state.votes = new Map(saved.votes.filter((v) => v[1] === 1 || v[1] === -1));
      state.sent = saved.sent || null;
      state.closed = Boolean(saved.closed);
      return true;
    } catch (err) {
      store.removeItem(PAGE_KEY);
      return false;
    }
  }

  const t = translator(I18N, () => state.lang);

  const finite = (x) => typeof x === "number" && Number.isFinite(x);
  const locale = () => (state.lang === "ru" ? "ru-RU" : "en-US");

  /** A share 0–1 as a whole percentage; a small non-zero share is "< 1 %", not "0 %". */
  function formatPercent(share) {
    if (share > 0 && share < 0.005) return state.lang === "ru" ? "<\u00a01\u00a0%" : "<1%";
    return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 0 }).format(
      share,
    );
  }

  /** A signed value with two decimals ("+0,42", "−1,07"); zero has no sign. */
  function formatSigned(value) {
    const digits = Math.abs(value).toFixed(2);
    const text = state.lang === "ru" ? digits.replace(".", ",") : digits;
    if (/^0[.,]00$/.test(text)) return text;
    return (value > 0 ? "+" : "\u2212") + text;
  }

  // ------------------------------------------------------------------ catalog text

  // The catalog is hh.ru's, so vacancy, company, industry and skill names are Russian
  // whatever language the page is in; marking them lets a screen reader switch voice.
  const CATALOG_LANG = "ru";

  const catalogText = (tag, text, className) =>
    el(tag, { className, lang: CATALOG_LANG, text: String(text) });

  /** t(key, ...args) as nodes: string arguments are catalog text and get their lang. */
  function phrase(key, ...args) {
    const slots = args.map((arg, i) => (typeof arg === "string" ? `\u0001${i}\u0001` : arg));
    return t(key, ...slots)
      .split(/\u0001(\d+)\u0001/)
      .map((part, i) =>
        i % 2 ? catalogText("span", args[Number(part)]) : document.createTextNode(part),
      );
  }

  /** Tell a screen reader what changed, through the page's polite live region. */
  function announce(nodes) {
    $("announce").replaceChildren(...nodes);
  }

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
    // The server's words for these name an event id; the seeker needs what to do next.
    if (status === 404 || status === 409 || status === 410) return t(`err_${status}`);
    const detail = body && (body.detail ?? body.details ?? body.message ?? body.error);
    if (status === 422 && typeof detail === "string" && detail.startsWith("area:")) {
      const close = /did you mean (.+)\?$/.exec(detail); // catalog names, shown as text
      return t("err_area", close ? close[1] : "");
    }
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
      for (const name of names) {
        select.append(el("option", { value: name, lang: CATALOG_LANG, text: name }));
      }
    } catch (err) {
      showFormError(`${t("err_skills_load")} ${err.message}`);
    }
  }

  async function loadAreas() {
    try {
      const data = await api("GET", "/api/v1/areas");
      const names = Array.isArray(data && data.areas) ? data.areas : [];
      $("area-list").replaceChildren(
        ...names.filter((n) => typeof n === "string").map((n) => el("option", { value: n })),
      );
    } catch (err) {
      // no suggestions: the city can still be typed
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
    const preference = $("preference").value;
    const body = { age, skill, preference, k: 5, session_id: sessionId() };
    const area = $("area").value.trim();
    if (area) body.area = area;
    // "any" is left out, so a format said in the preference («удалённо») still counts.
    const format = $("work-format").value;
    if (format === "remote" || format === "office") body.work_format = format;
    return { body };
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
    announce([]); // emptied, so the same news twice is still news
    const button = $("submit");
    const from = document.activeElement;
    button.disabled = true;
    button.textContent = t("submitting");
    $("search-form").setAttribute("aria-busy", "true");
    let found = false;
    try {
      state.result = await api("POST", "/api/v1/recommendations", form.body);
      state.query = form.body.preference.trim();
      state.votes = new Map();
      state.sent = null;
      state.sendError = null;
      state.closed = false;
      savePage();
      renderResult();
      found = true;
    } catch (err) {
      showFormError(err.message);
    } finally {
      button.disabled = false;
      button.textContent = t("submit");
      $("search-form").removeAttribute("aria-busy");
    }
    if (found) showResults();
    // A disabled button drops the focus to <body>: give it back to where the seeker was.
    else if (!document.activeElement || document.activeElement === document.body) from.focus();
  }

  /** New results: say what came and take the seeker to them, not leave them in the form. */
  function showResults() {
    const result = state.result;
    const count = Array.isArray(result.items) ? result.items.length : 0;
    const industry = (result.action && result.action.industry) || "";
    announce(count ? phrase("results_found", count, industry) : [t("no_items")]);
    $("results-title").focus({ preventScroll: true });
    $("results").scrollIntoView({ behavior: "smooth", block: "start" });
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

  /** What a card outside the asked place or work format misses, from what was asked. */
  function misfitText(place, item) {
    const city = place && typeof place.area === "string" && place.area ? place.area : null;
    if (place && place.work_format === "remote") return t("card_not_remote");
    if (place && place.work_format === "office") {
      // Office asked: a misfit is remote work, or an office elsewhere.
      if (item.schedule === "remote") return t("card_not_office");
      if (city) return t("card_not_in_city", city);
    }
    if (city) return t("card_not_in", city);
    return t("card_elsewhere");
  }

  function renderCard(item, place) {
    const name = String(item.name ?? "");
    const href = safeUrl(item.url, ["http:", "https:"]);
    const title = href
      ? el("a", { href, target: "_blank", rel: "noopener noreferrer", title: t("open_posting") }, [
          catalogText("span", name),
          el("span", { className: "ext", "aria-hidden": "true", text: "\u00a0↗" }),
        ])
      : catalogText("span", name);

    const logoUrl = safeUrl(item.logo, ["https:", "http:"]);
    let logo = null;
    if (logoUrl) {
      logo = el("img", { className: "logo", src: logoUrl, alt: "", width: 48, height: 48, loading: "lazy" });
      logo.addEventListener("error", () => logo.remove());
    }

    const salary = formatSalary(item.salary);
    // Whether the card answers the seeker's words: a filler card must not pass for a match,
    // nor one sharing a word weakly; the words it shares are named.
    const shared = Array.isArray(item.matched_words) ? item.matched_words.map(String) : [];
    const words = shared.length ? shared.map((w) => `«${w}»`).join(", ") : "";
    let relevance = null;
    if (item.matched === true && finite(item.score)) {
      relevance = el("p", {
        className: "relevance matched",
        text: t("card_match"),
      });
    } else if (item.matched === false && words) {
      relevance = el("p", { className: "relevance weak", text: t("card_weak", words) });
    } else if (item.matched === false) {
      relevance = el("p", {
        className: "relevance unmatched",
        text: state.query ? t("card_unmatched") : t("card_recent"),
      });
    }
    const facts = cardFacts(item);
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

    const cardClass = item.matched === false ? "card unmatched" : "card";
    return el("li", { className: cardClass, "data-id": item.id }, [
      el("div", { className: "card-head" }, [
        logo,
        el("div", { className: "card-titles" }, [
          el("h3", { className: "card-title" }, [title]),
          item.company ? catalogText("p", item.company, "company") : null,
        ]),
      ]),
      relevance,
      item.matched === true && words
        ? el("p", { className: "matched-words", text: t("card_words", words) })
        : null,
      item.place_match === false ? el("p", { className: "elsewhere", text: misfitText(place, item) }) : null,
      el("p", { className: salary ? "salary" : "salary none", text: salary ?? t("salary_none") }),
      facts,
      renderSnippet(item),
      el("div", { className: "votes", role: "group", "aria-label": t("vote_group", name) }, [up, down]),
    ]);
  }

  /** The snippet with the seeker's matched words in <mark>: every part is set as text. */
  function renderSnippet(item) {
    const parts = Array.isArray(item.snippet_parts)
      ? item.snippet_parts.filter((p) => p && typeof p.text === "string" && p.text)
      : [];
    if (!parts.length) return item.snippet ? catalogText("p", item.snippet, "snippet") : null;
    const nodes = parts.map((p) =>
      p.mark === true ? el("mark", { text: p.text }) : document.createTextNode(p.text),
    );
    return el("p", { className: "snippet", lang: CATALOG_LANG }, nodes);
  }

  /** City (and the other cities of the same job), work format, experience, publication date. */
  function cardFacts(item) {
    const known = (prefix, id) => {
      const key = `${prefix}_${id}`;
      return typeof id === "string" && (I18N.ru[key] !== undefined) ? t(key) : null;
    };
    const parts = [];
    parts.push(
      typeof item.area === "string" && item.area
        ? catalogText("span", item.area, "area")
        : el("span", { className: "area none", text: t("area_unknown") }),
    );
    const others = Array.isArray(item.also_in) ? item.also_in.filter((a) => typeof a === "string") : [];
    if (others.length) {
      parts.push(el("span", { className: "also-in", title: t("also_in_title", others), text: t("also_in", others.length) }));
    }
    const schedule = known("schedule", item.schedule);
    if (schedule) parts.push(el("span", { className: "schedule", text: schedule }));
    const experience = known("experience", item.experience);
    if (experience) parts.push(el("span", { className: "experience", text: experience }));
    const published = item.published_at ? new Date(item.published_at) : null;
    if (published && !Number.isNaN(published.getTime())) {
      const locale = state.lang === "ru" ? "ru-RU" : "en-US";
      const date = new Intl.DateTimeFormat(locale, { dateStyle: "medium" }).format(published);
      parts.push(el("span", { className: "published", text: t("published", date) }));
    }
    return el("p", { className: "facts" }, parts);
  }

  function toggleVote(id, value) {
    if (isLocked()) return;
    const key = String(id);
    if (state.votes.get(key) === value) state.votes.delete(key);
    else state.votes.set(key, value);
    state.sendError = null;
    savePage();
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
    $("results-title").replaceChildren(...phrase("results_title", industry));
    // When the words match fewer cards than are shown, the page says the industry has no
    // more matches rather than let the others pass for them.
    const matched = items.filter((item) => item.matched === true).length;
    const few = !result.fallback && Boolean(state.query) && matched < items.length;
    const fallback = $("fallback-note");
    fallback.hidden = !((result.fallback || few) && items.length);
    fallback.textContent = few
      ? t("few_matches", matched)
      : state.query
        ? t("fallback")
        : t("fallback_blank");
    renderSessionNote(result.session);
    renderPlaceNote(result.place);

    const cards = $("cards");
    cards.replaceChildren(...items.map((item) => renderCard(item, result.place)));
    const rejected = result.session && result.session.rejected > 0;
    const empty = rejected ? t("no_items_left") : t("no_items");
    if (!items.length) cards.append(el("li", { className: "empty", text: empty }));

    const send = $("send");
    $("feedback-bar").hidden = !items.length;
    send.textContent = t("send");
    send.disabled = isLocked() || state.votes.size === 0;
    $("vote-hint").textContent = t("vote_hint", state.votes.size, items.length);

    const status = $("feedback-status");
    if (state.sent) {
      status.className = "confirm";
      status.textContent = t("sent", state.sent.up, state.sent.down);
    } else if (state.sendError) {
      status.className = "error";
      status.textContent = state.sendError;
    } else {
      status.className = "";
      status.textContent = "";
    }
    renderWhy(result);
  }

  /** The place and work format the answer was chosen for, as the server understood them. */
  function renderPlaceNote(place) {
    const note = $("place-note");
    const parts = [];
    let words = false;
    if (place && typeof place === "object") {
      if (typeof place.area === "string" && place.area) {
        parts.push(t("place_city", place.area, place.area_from_words === true));
        words = words || place.area_from_words === true;
      }
      if (place.work_format === "remote" || place.work_format === "office") {
        parts.push(t(`place_${place.work_format}`));
        words = words || place.format_from_words === true;
      }
    }
    note.textContent = parts.length ? t("place_note", parts, words) : "";
    note.hidden = parts.length === 0;
  }

  /** What this tab's earlier ratings changed in the answer, said in the seeker's words. */
  function renderSessionNote(session) {
    const note = $("session-note");
    const lines = [];
    if (session && typeof session === "object") {
      if (session.rejected > 0) lines.push(t("session_rejected", session.rejected));
      if (Array.isArray(session.avoided) && session.avoided.length) {
        lines.push(t("session_avoided", session.avoided.map(String)));
      }
      if (session.shown_before > 0) lines.push(t("session_repeat", session.shown_before));
    }
    note.replaceChildren(...lines.map((text) => el("span", { text: `${text} ` })));
    note.hidden = lines.length === 0;
  }

  async function onSend() {
    const result = state.result;
    if (!result || isLocked() || state.votes.size === 0) return;
    const votes = [...state.votes].map(([vacancy_id, vote]) => ({ vacancy_id, vote }));
    const send = $("send");
    send.disabled = true;
    send.textContent = t("sending");
    try {
      await api("POST", "/api/v1/feedback", { event_id: result.event_id, votes });
      const up = votes.filter((v) => v.vote === 1).length;
      state.sent = { up, down: votes.length - up };
    } catch (err) {
      state.sendError = err.message;
      // Unknown, already rated or expired: this set can no longer take votes.
      state.closed = [404, 409, 410].includes(err.status);
    }
    savePage();
    renderResult();
    // The button disabled itself under the focus; the outcome is the next thing to read.
    $("feedback-status").focus();
  }

  // ------------------------------------------------------------------ why

  /** The explanation's per-industry rows that are well formed, best score first. */
  function industryRows(result) {
    const raw = result.explanation && result.explanation.industries;
    if (!Array.isArray(raw)) return [];
    return raw
      .filter((r) => r && typeof r.industry === "string" && finite(r.match) && finite(r.score))
      .map((r) => ({
        industry: r.industry,
        match: Math.min(Math.max(r.match, 0), 1),
        learned: finite(r.learned) ? r.learned : null,
        score: r.score,
      }))
      .sort((a, b) => b.score - a.score);
  }

  function servedByModel(result) {
    const policy = result.explanation && result.explanation.policy;
    return typeof policy === "string" ? policy === "model" : result.model_version != null;
  }

  /** What happened, in a job seeker's words: [key, ...args] for phrase(). */
  function whyNote(result, rows, chosen, model) {
    const prior = state.query ? "why_prior" : "why_prior_blank";
    if (!rows.length) return [model ? "why_none" : prior];
    const best = rows[0];
    if (best.industry !== chosen) {
      return [model ? "why_model_explore" : "why_prior_explore", best.industry];
    }
    if (!model) return [prior];
    if (!state.query) return ["why_model_blank"];
    // Its vacancies hardly match the preference (a twentieth of the best industry's match, or
    // none shares a word): the ratings carried it.
    const top = Math.max(...rows.map((r) => r.match));
    if (result.fallback || !(top > 0) || best.match < 0.05 * top) return ["why_model_ratings"];
    if (best.learned === null || best.learned < 0.005) return ["why_model_words"];
    const closest = rows.reduce((a, b) => (b.match > a.match ? b : a));
    return closest.industry === chosen ? ["why_model_both"] : ["why_model_rated", closest.industry];
  }

  /** ``top``: the best industry's match; each row's match is shown as a share of it (match
   * scores are comparable between industries, not meaningful alone). */
  function whyRow(row, isChosen, reach, top) {
    const share = top > 0 ? Math.min(Math.max(row.match / top, 0), 1) : 0;
    const fill = el("span", { className: "meter-fill" });
    fill.style.width = `${share * 100}%`;
    const matchCell = el("td", { className: "why-match" }, [
      el("span", { className: "meter", "aria-hidden": "true" }, [fill]),
      el("span", { className: "why-val", text: formatPercent(share) }),
    ]);
    let learnedCell;
    if (row.learned === null) {
      learnedCell = el("td", { className: "why-learned none" }, [
        el("span", { className: "why-val", "aria-hidden": "true", text: "—" }),
        el("span", { className: "sr-only", text: t("why_no_learned") }),
      ]);
    } else {
      const half = (Math.abs(row.learned) / reach) * 50;
      const bar = el("span", { className: row.learned < 0 ? "shift neg" : "shift" });
      bar.style.left = `${row.learned < 0 ? 50 - half : 50}%`;
      bar.style.width = `${half}%`;
      learnedCell = el("td", { className: "why-learned" }, [
        el("span", { className: "diverge", "aria-hidden": "true" }, [
          el("span", { className: "zero" }),
          bar,
        ]),
        el("span", { className: "why-val", text: formatSigned(row.learned) }),
      ]);
    }
    return el("tr", { className: isChosen ? "chosen" : null, "data-industry": row.industry }, [
      el("th", { scope: "row", className: "why-name" }, [
        catalogText("span", row.industry, "why-industry"),
        isChosen ? el("span", { className: "badge", text: t("why_chosen") }) : null,
      ]),
      matchCell,
      learnedCell,
    ]);
  }

  function renderWhy(result) {
    const chart = $("why-chart");
    const foot = $("why-foot");
    $("why").hidden = false;
    const chosen = result.action && result.action.industry;
    const model = servedByModel(result);
    const rows = industryRows(result);
    $("why-note").replaceChildren(...phrase(...whyNote(result, rows, chosen, model)));
    if (!rows.length) {
      chart.replaceChildren();
      foot.replaceChildren();
      foot.hidden = true;
      return;
    }

    let shown = rows.slice(0, MAX_BARS);
    const chosenRow = rows.find((r) => r.industry === chosen);
    if (chosenRow && !shown.includes(chosenRow)) shown = [...shown.slice(0, MAX_BARS - 1), chosenRow];
    // One scale for every learned value (not only the rows shown), as the footnote states it.
    const learned = rows.map((r) => r.learned).filter((v) => v !== null);
    const reach = Math.max(0, ...learned.map(Math.abs)) || 1;
    const topMatch = Math.max(0, ...rows.map((r) => r.match));

    const head = el("tr", {}, [
      el("th", { scope: "col", text: t("why_col_industry") }),
      el("th", { scope: "col", text: t("why_col_match") }),
      el("th", { scope: "col", text: t("why_col_learned") }),
    ]);
    const table = el("table", { className: "why-table", "aria-describedby": "why-foot" }, [
      el("thead", {}, [head]),
      el("tbody", {}, shown.map((row) => whyRow(row, row.industry === chosen, reach, topMatch))),
    ]);
    chart.replaceChildren(table);
    const rest = rows.length - shown.length;
    if (rest > 0) chart.append(el("p", { className: "hint more", text: t("why_more", rest) }));

    const lines = [t("why_foot_match")];
    if (learned.length) {
      const lo = formatSigned(Math.min(...learned));
      const hi = formatSigned(Math.max(...learned));
      lines.push(t("why_foot_learned", lo, hi, learned.length));
    } else {
      lines.push(t("why_foot_no_learned"));
    }
    if (model) lines.push(t("why_foot_order"));
    foot.replaceChildren(...lines.map((text) => el("p", { text })));
    foot.hidden = false;
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
    loadAreas();
    if (restorePage()) renderResult(); // a reload keeps the answer and its unsent votes
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
