/**
 * The token an emailed link carries in its fragment (`#token=…`): fragments are never sent to a
 * server, so the token reaches only this page. Read once, then removed from the address bar and
 * the history, so it is not left behind for whoever uses the browser next.
 */
export function takeFragmentToken(): string | null {
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  if (location.hash) history.replaceState(history.state, "", location.pathname + location.search);
  return token;
}
