// The definition studio's code editor: CodeMirror 6 over the page's <textarea id="source">.
//
// Bundled at set-up (api/web/vendor.py runs esbuild on this file) into api/static/vendor/. The
// textarea stays in the form, hidden, and carries the text: the form posts it, htmx sends it to the
// live check, and without this script the page is the plain textarea. The check's problems (the
// server's, in the reader's language: the same validator as the API) become the editor's markers;
// completions and hovers come from the definition language's JSON Schema (/ui/studio/schema.json).
import { EditorView, basicSetup } from "codemirror";
import { EditorState } from "@codemirror/state";
import { hoverTooltip, keymap } from "@codemirror/view";
import { indentWithTab } from "@codemirror/commands";
import { yaml, yamlLanguage } from "@codemirror/lang-yaml";
import { setDiagnostics, lintGutter } from "@codemirror/lint";
import { yamlCompletion, yamlSchemaHover } from "codemirror-json-schema/yaml";
import { stateExtensions, updateSchema } from "codemirror-json-schema";

// JSON Schema's type words as a reader of the page says them.
const TYPES = {
  zh: { string: "文本", integer: "整数", number: "数字", boolean: "是/否", array: "列表", object: "映射", null: "空" },
  en: { string: "text", integer: "whole number", number: "number", boolean: "yes/no", array: "list", object: "mapping", null: "empty" },
};

function words(lang) {
  return TYPES[lang] || TYPES.en;
}

// The hover: the property's description (the schema is served in the page's language) and its type
// or allowed values, as plain text (no Markdown renderer in the bundle).
function hoverTexts(lang) {
  const names = words(lang);
  const sep = lang === "zh" ? "、" : ", ";
  return function (data) {
    const schema = (data && data.schema) || {};
    let typeInfo = "";
    if (Array.isArray(schema.enum)) typeInfo = schema.enum.join(sep);
    else if (schema.type) typeInfo = [].concat(schema.type).map((t) => names[t] || t).join(" / ");
    else if (schema.anyOf || schema.oneOf) {
      typeInfo = (schema.anyOf || schema.oneOf).map((s) => names[s.type] || s.type).filter(Boolean).join(" / ");
    }
    return { message: schema.description || null, typeInfo };
  };
}

function hoverDom(texts) {
  const box = document.createElement("div");
  box.className = "cm-schema-hover";
  if (texts.message) {
    const p = document.createElement("p");
    p.textContent = texts.message;
    box.appendChild(p);
  }
  if (texts.typeInfo) {
    const code = document.createElement("code");
    code.textContent = texts.typeInfo;
    box.appendChild(code);
  }
  return box;
}

// The check's problems as markers: each <li data-issue> names its 1-based line (or none: the top).
function diagnostics(state) {
  const found = [];
  document.querySelectorAll("#checks li[data-issue]").forEach((item) => {
    const number = parseInt(item.getAttribute("data-issue-line") || "1", 10);
    const line = state.doc.line(Math.min(Math.max(number || 1, 1), state.doc.lines));
    const indent = line.text.length - line.text.trimStart().length;
    const from = line.from + Math.min(indent, line.length);
    found.push({ from, to: Math.max(line.to, from), severity: "error", message: item.getAttribute("data-message") || item.textContent.trim() });
  });
  return found;
}

function mount() {
  const area = document.getElementById("source");
  const form = document.getElementById("editor-form");
  if (!area || !form || area.dataset.editor === "on") return;
  const lang = document.body.getAttribute("data-lang") || "en";
  const label = document.querySelector("label[for=source]");
  const host = document.createElement("div");
  host.className = "cm-host";
  host.id = "code-editor";
  area.insertAdjacentElement("afterend", host);

  const view = new EditorView({
    parent: host,
    state: EditorState.create({
      doc: area.value,
      extensions: [
        basicSetup,
        keymap.of([indentWithTab]),
        EditorView.lineWrapping, // long flow mappings stay readable in the column, no side scrolling
        yaml(),
        lintGutter(),
        yamlLanguage.data.of({ autocomplete: yamlCompletion() }),
        hoverTooltip(yamlSchemaHover({ getHoverTexts: hoverTexts(lang), formatHover: hoverDom })),
        stateExtensions(undefined),
        EditorState.readOnly.of(area.readOnly),
        EditorView.contentAttributes.of({
          "aria-label": label ? label.textContent.trim() : "YAML",
          "aria-describedby": "editor-keys",
          // Focusable by the keyboard as the scrolling region's content (axe: scrollable-region-focusable).
          tabindex: "0",
        }),
        EditorView.updateListener.of((update) => {
          if (!update.docChanged) return;
          area.value = update.state.doc.toString();
          // htmx's live check listens on the textarea ("input changed delay:500ms").
          area.dispatchEvent(new Event("input", { bubbles: true }));
        }),
      ],
    }),
  });
  area.dataset.editor = "on";
  area.hidden = true;
  const keys = document.getElementById("editor-keys");
  if (keys) keys.hidden = false;
  if (label) label.addEventListener("click", () => view.focus());
  window.studioEditor = view; // for the page's tests and the line buttons

  // Completions and hovers from the schema, once it arrived (the editor is usable before).
  loadSchema(view, area.getAttribute("data-schema"));

  function mark() {
    view.dispatch(setDiagnostics(view.state, diagnostics(view.state)));
  }
  mark();
  document.body.addEventListener("htmx:afterSwap", (ev) => {
    if (ev.detail && ev.detail.target && ev.detail.target.id === "checks") mark();
  });

  // "line N" buttons beside each problem put the cursor on that line in the editor.
  document.addEventListener(
    "click",
    (ev) => {
      const button = ev.target.closest && ev.target.closest("[data-line]");
      if (!button) return;
      ev.stopImmediatePropagation();
      goTo(view, parseInt(button.getAttribute("data-line"), 10));
    },
    true,
  );

  // Saving with problems the check already reported: say "not saved" beside the button, and go to
  // the first problem. (A check still running lets the server decide: it answers the same way.)
  form.addEventListener("submit", (ev) => {
    const bad = document.querySelector("#checks [data-valid=false]");
    const pending = document.querySelector("#source.htmx-request");
    if (!bad || pending || area.value !== view.state.doc.toString()) return;
    ev.preventDefault();
    const status = document.getElementById("save-status");
    if (status) {
      status.textContent = status.getAttribute("data-not-saved") || "";
      status.hidden = false;
    }
    const first = document.querySelector("#checks li[data-issue]");
    goTo(view, parseInt((first && first.getAttribute("data-issue-line")) || "1", 10));
  });
}

function goTo(view, number) {
  const line = view.state.doc.line(Math.min(Math.max(number || 1, 1), view.state.doc.lines));
  view.dispatch({ selection: { anchor: line.from, head: line.to }, scrollIntoView: true });
  view.focus();
}

function loadSchema(view, url) {
  if (!url || !window.fetch) return;
  fetch(url, { credentials: "same-origin" })
    .then((r) => (r.ok ? r.json() : null))
    .then((schema) => schema && updateSchema(view, schema))
    .catch(() => {});
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", mount);
else mount();
