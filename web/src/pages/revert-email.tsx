import { useEffect, useState } from "preact/hooks";
import { api, networkProblem, type Problem } from "../api";
import { ProblemView } from "../components/problem";
import { takeFragmentToken } from "../fragment";
import { useTitle } from "../title";

/**
 * The old address's undo link (decision 0012). Undoing is asked for with a click, never done on
 * opening the page: a mail scanner that follows links must not revert a change by itself.
 */
export function RevertEmailPage() {
  useTitle("Undo the email change");
  const [token, setToken] = useState<string | null | undefined>(undefined);
  const [state, setState] = useState<"ready" | "working" | "reverted" | Problem>("ready");
  useEffect(() => setToken(takeFragmentToken()), []);
  const revert = async () => {
    if (!token || state === "working") return;
    setState("working");
    try {
      const { error } = await api.POST("/v1/auth/revert-email", { body: { token } });
      setState(error ?? "reverted");
    } catch (error) {
      setState(networkProblem(error));
    }
  };
  return (
    <section aria-labelledby="revert-title">
      <h1 id="revert-title">Undo the email change</h1>
      {token === null && <p>Open this page from the link in the email we sent to your previous address: the link carries the code that proves the address is yours.</p>}
      {token && state !== "reverted" && (
        <>
          <p>
            Your account's email address was changed. If you did not ask for that, undo it: the account gets this address back, every sign-in ends, and the password stops working. We then email this
            address a link to set a new password.
          </p>
          <button type="button" onClick={revert} disabled={state === "working"} aria-busy={state === "working"}>
            {state === "working" ? "Undoing…" : "Undo the change"}
          </button>
        </>
      )}
      {state === "reverted" && (
        <p role="status">The change is undone: your account has this address again and every sign-in has ended. Set a new password from the link we just emailed here.</p>
      )}
      {typeof state === "object" && <ProblemView problem={state} />}
    </section>
  );
}
