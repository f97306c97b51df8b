import { LOCAL_KEYS, SESSION_KEYS } from "../storage";
import { useTitle } from "../title";

/** The cookie policy (privacy policy §8): what the browser keeps, read from the code that keeps it. */
export function CookiesPage() {
  useTitle("Cookie policy");
  return (
    <article aria-labelledby="cookies-title">
      <h1 id="cookies-title">Cookie policy</h1>
      <p>
        Ozekai sets <strong>no cookies</strong> — none for tracking, analytics or advertising, and none of our own. Nothing on this website is loaded from another company's
        servers.
      </p>
      <h2>localStorage</h2>
      <p>Kept in your browser until you sign out:</p>
      <dl class="keys">
        {Object.values(LOCAL_KEYS).map(({ key, why }) => (
          <div key={key}>
            <dt>
              <code>{key}</code>
            </dt>
            <dd>{why}</dd>
          </div>
        ))}
      </dl>
      <h2>sessionStorage</h2>
      <p>Kept only while a checkout is under way, and only in this tab:</p>
      <dl class="keys">
        {Object.values(SESSION_KEYS).map(({ key, why }) => (
          <div key={key}>
            <dt>
              <code>{key}</code>
            </dt>
            <dd>{why}</dd>
          </div>
        ))}
      </dl>
      <p>
        Signing out removes all of it. See also our <a href="/privacy">privacy policy</a>.
      </p>
    </article>
  );
}
