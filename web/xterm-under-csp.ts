/**
 * A build step for xterm.js under this site's CSP (`style-src 'self'`, no 'unsafe-inline'). xterm
 * creates `<style>` elements for the CSS it computes and, for true-colour cells, writes `style`
 * attributes: both are inline styles, which the CSP refuses (the terminal then renders without its
 * colours and the console fills with violations). Here its `createElement("style")` calls become
 * src/terminal/constructed-style.ts (constructed stylesheets, which CSP does not govern), and its
 * style attribute writes become `style.cssText` (CSSOM, also allowed). Each rewrite must match the
 * exact number of places it expects: an xterm upgrade that moves them fails the build instead of
 * silently shipping a terminal the CSP breaks.
 */
import { fileURLToPath } from "node:url";
import type { Plugin } from "vite";

const XTERM_MODULE = /\/@xterm\/xterm\/lib\/xterm\.mjs$/;
const ADAPTER = fileURLToPath(new URL("src/terminal/constructed-style.ts", import.meta.url));

const REWRITES = [
  { what: "style elements", expected: 3, pattern: /([\w$]+(?:\.[\w$]+)*)\.createElement\("style"\)/g, replace: (_: string, doc: string) => `__ozekaiConstructedStyle(${doc})` },
  {
    what: "style attribute writes",
    expected: 1,
    pattern: /_addStyle\(([\w$]+),([\w$]+)\)\{\1\.setAttribute\("style",`\$\{\1\.getAttribute\("style"\)\|\|""\}\$\{\2\};`\)\}/g,
    replace: (_: string, element: string, style: string) => `_addStyle(${element},${style}){${element}.style.cssText+=\`\${${style}};\`}`,
  },
];

export function xtermUnderCsp(): Plugin {
  return {
    name: "ozekai:xterm-under-csp",
    transform(code, id) {
      if (!XTERM_MODULE.test(id)) return null;
      let out = code;
      for (const { what, expected, pattern, replace } of REWRITES) {
        let found = 0;
        out = out.replace(pattern, (...args: string[]) => {
          found++;
          return (replace as (...a: string[]) => string)(...args);
        });
        if (found !== expected) this.error(`xterm-under-csp: expected ${expected} ${what} in ${id}, found ${found}; see web/xterm-under-csp.ts`);
      }
      if (/setAttribute\("style"/.test(out)) this.error(`xterm-under-csp: a style attribute write is left in ${id}`);
      return { code: `import { constructedStyle as __ozekaiConstructedStyle } from ${JSON.stringify(ADAPTER)};\n${out}`, map: null };
    },
  };
}
