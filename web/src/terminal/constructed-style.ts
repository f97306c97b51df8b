/**
 * xterm.js writes the CSS it computes (theme colours, row sizes, its scrollbar) into `<style>`
 * elements it creates. This site's CSP (`style-src 'self'`, no 'unsafe-inline') refuses inline
 * style elements: the CSS would not apply and every write would be reported as a violation. The
 * build (web/vite.config.ts) has xterm call this instead of `createElement("style")`: an inert
 * element in the same place whose text becomes a constructed stylesheet adopted by the document.
 * CSP does not govern those (CSSOM, as with the element styles xterm sets from script), and
 * nothing here reads a stylesheet from outside our own code.
 */
export function constructedStyle(document: Document): HTMLElement {
  const holder = document.createElement("ozekai-style");
  holder.hidden = true;
  const sheet = new CSSStyleSheet();
  let text = "";
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  Object.defineProperty(holder, "textContent", {
    get: () => text,
    set: (value: string | null) => {
      text = value ?? "";
      sheet.replaceSync(text);
    },
  });
  const remove = holder.remove.bind(holder);
  holder.remove = () => {
    document.adoptedStyleSheets = document.adoptedStyleSheets.filter((s) => s !== sheet);
    remove();
  };
  return holder;
}
