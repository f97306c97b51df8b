import { signal } from "@preact/signals";
import { useLocation } from "preact-iso";
import { useEffect } from "preact/hooks";
import { api, networkProblem, type Problem, type Schemas, username } from "./api";

/** A page for the signed-in only: signed out (here or in another tab), it goes to the sign-in page. */
export function useSignedIn(): boolean {
  const { route } = useLocation();
  const signedIn = username.value !== null;
  useEffect(() => {
    if (!signedIn) route("/login");
  }, [signedIn, route]);
  return signedIn;
}

type Role = Schemas["Account"]["role"];
interface RoleAnswer {
  username: string;
  role?: Role;
  problem?: Problem;
}

const roleAnswer = signal<RoleAnswer | null>(null);
let askedFor: string | null = null;

/**
 * The signed-in account's role, from GET /v1/account once per sign-in (nothing while it loads).
 * It only decides what the website shows, the admin link and the admin pages; the API checks the
 * role in D1 on every admin call.
 */
export function useRole(): { role?: Role; problem?: Problem } {
  const name = username.value;
  useEffect(() => {
    if (name === null) askedFor = null;
    if (name === null || askedFor === name) return;
    askedFor = name;
    api.GET("/v1/account").then(
      ({ data, error }) => (roleAnswer.value = { username: name, role: data?.role, problem: error }),
      (error: unknown) => (roleAnswer.value = { username: name, problem: networkProblem(error) }),
    );
  }, [name]);
  const answer = roleAnswer.value;
  return answer && answer.username === name ? answer : {};
}
