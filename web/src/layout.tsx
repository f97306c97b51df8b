import type { ComponentChildren } from "preact";
import { useLocation } from "preact-iso";
import { signOut, username } from "./api";
import { useRole } from "./signed-in";

export function Layout({ children }: { children: ComponentChildren }) {
  const { route } = useLocation();
  const name = username.value;
  const { role } = useRole();
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
          {name ? (
            <>
              <a href="/dashboard">Dashboard</a>
              <a href="/terminal">Terminal</a>
              <a href="/files">Files</a>
              <a href="/usage">Usage</a>
              <a href="/billing">Billing</a>
              <a href="/account">Account</a>
              {role === "admin" && <a href="/admin">Admin</a>}
            </>
          ) : (
            <a href="/login">Sign in</a>
          )}
          {!name && <a href="/signup">Create account</a>}
          <a href="/privacy">Privacy</a>
          <a href="/cookies">Cookies</a>
          <a href="/docs">API</a>
          {name && (
            <button
              type="button"
              class="link"
              onClick={async () => {
                await signOut();
                route("/");
              }}
            >
              Sign out {name}
            </button>
          )}
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
