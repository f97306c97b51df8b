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
      <KeyList keys={LOCAL_KEYS} />
      <h2>sessionStorage</h2>
      <p>Kept only while a checkout is under way, and only in this tab:</p>
      <KeyList keys={SESSION_KEYS} />
      <p>
        Signing out removes all of it. See also our <a href="/privacy">privacy policy</a>.
      </p>
    </article>
  );
}

/** Each key the browser holds, with why. */
function KeyList({ keys }: { keys: Record<string, { key: string; why: string }> }) {
  return (
    <dl class="keys">
      {Object.values(keys).map(({ key, why }) => (
        <div key={key}>
          <dt>
            <code>{key}</code>
          </dt>
          <dd>{why}</dd>
        </div>
      ))}
    </dl>
  );
}
