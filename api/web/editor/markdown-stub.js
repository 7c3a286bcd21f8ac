// Stands in for codemirror-json-schema's Markdown renderer (markdown-it + shiki, ~9 MB with its
// grammars): the studio's hovers are plain text, so the bundle needs neither.
export function renderMarkdown(text) {
  const div = document.createElement("div");
  div.textContent = String(text == null ? "" : text);
  return div.innerHTML;
}
