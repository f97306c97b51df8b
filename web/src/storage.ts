/**
 * Everything the website keeps in the browser, in one place (policy §8; the cookie policy page
 * lists these keys from here, so the page and the code cannot disagree). No cookies, ever.
 */
export const LOCAL_KEYS = {
  accessToken: { key: "ozekai.accessToken", why: "your sign-in token (it lasts 15 minutes), sent with each request to our API" },
  refreshToken: { key: "ozekai.refreshToken", why: "the token that renews your sign-in without asking for your password again; it is replaced on each use and revoked when you sign out" },
  username: { key: "ozekai.username", why: "your username, to greet you and to confirm a destroy" },
} as const;

export const SESSION_KEYS = {
  checkout: { key: "ozekai.checkout", why: "the plan you chose while you are on Stripe's checkout page, removed when you come back" },
} as const;
