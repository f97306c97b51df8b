/**
 * The terminal itself: xterm.js and its fit addon, in their own chunk (the terminal page imports
 * this module when it has a shell to show; no other page loads it). Its CSS comes with the chunk;
 * the CSS xterm writes at run time goes through constructed stylesheets (constructed-style.ts).
 */
import { FitAddon } from "@xterm/addon-fit";
import { Terminal } from "@xterm/xterm";
import "@xterm/xterm/css/xterm.css";

export interface Console {
  terminal: Terminal;
  /** Fits the terminal to its element (after the element's size changed). */
  fit(): void;
  dispose(): void;
}

// Light text on near-black: well above WCAG AA contrast for the default foreground.
const THEME = { background: "#111418", foreground: "#e8eaed", cursor: "#e8eaed", selectionBackground: "#3a4a66" };

export function createConsole(element: HTMLElement): Console {
  const terminal = new Terminal({ theme: THEME, fontFamily: "ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace", fontSize: 14, cursorBlink: true, scrollback: 5000 });
  const fitAddon = new FitAddon();
  terminal.loadAddon(fitAddon);
  terminal.open(element);
  const fit = () => {
    // A hidden or zero-sized element has no size to fit to.
    if (element.clientWidth > 0 && element.clientHeight > 0) fitAddon.fit();
  };
  fit();
  const observer = new ResizeObserver(fit);
  observer.observe(element);
  return {
    terminal,
    fit,
    dispose() {
      observer.disconnect();
      terminal.dispose();
    },
  };
}
