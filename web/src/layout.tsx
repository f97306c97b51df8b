import type { ComponentChildren } from "preact";

export function Layout({ children }: { children: ComponentChildren }) {
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <a class="brand" href="/">
          Ozekai
        </a>
        <nav aria-label="Main">
          <a href="/privacy">Privacy</a>
          <a href="/cookies">Cookies</a>
          <a href="/docs">API</a>
        </nav>
      </header>
      <main id="main" tabIndex={-1}>
        {children}
      </main>
      <footer class="bottom">
        <p>Ozekai LLC · 1755 Broadway FRONT 3 #1142, New York, NY 10019 · Hosted in the United States</p>
      </footer>
    </>
  );
}
