// Helpers shared by the job seeker's page and the dashboard: the remembered
// language, translation lookup and DOM building. Text from data only ever goes
// in through textContent or attributes set one by one — never as markup.
"use strict";

window.vacrecCommon = (function () {
  const LANG_KEY = "vacrec.lang";

  /** The saved language if the dictionaries know it, else Russian. */
  function loadLang(dictionaries) {
    try {
      const saved = window.localStorage.getItem(LANG_KEY);
      if (saved && dictionaries[saved]) return saved;
    } catch (_) {
      /* storage may be disabled; Russian is the default */
    }
    return "ru";
  }

  function saveLang(lang) {
    try {
      window.localStorage.setItem(LANG_KEY, lang);
    } catch (_) {
      /* not remembered, still switched */
    }
  }

  /** t(key, ...args) in the current language, falling back to Russian. */
  function translator(dictionaries, currentLang) {
    return (key, ...args) => {
      const entry = dictionaries[currentLang()][key] ?? dictionaries.ru[key];
      return typeof entry === "function" ? entry(...args) : entry;
    };
  }

  const $ = (id) => document.getElementById(id);

  /** An element with text, class and attributes; false/null props are left out. */
  function el(tag, props = {}, children = []) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(props)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "className") node.className = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) if (child) node.append(child);
    return node;
  }

  return Object.freeze({ loadLang, saveLang, translator, $, el });
})();
