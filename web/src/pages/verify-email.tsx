import { useEffect, useState } from "preact/hooks";
import { api, networkProblem, type Problem } from "../api";
import { ProblemView } from "../components/problem";
import { takeFragmentToken } from "../fragment";
import { useTitle } from "../title";

export function VerifyEmailPage() {
  useTitle("Verify your email address");
  const [state, setState] = useState<"working" | "verified" | "no-token" | Problem>("working");
  useEffect(() => {
    const token = takeFragmentToken();
    if (!token) return setState("no-token");
    api.POST("/v1/auth/verify-email", { body: { token } }).then(
      ({ error }) => setState(error ?? "verified"),
      (error: unknown) => setState(networkProblem(error)),
    );
  }, []);
  return (
    <section aria-labelledby="verify-title">
      <h1 id="verify-title">Verify your email address</h1>
      {state === "working" && <p role="status">Verifying…</p>}
      {state === "verified" && (
        <p role="status">
          Your email address is verified. <a href="/login">Sign in</a>.
        </p>
      )}
      {state === "no-token" && <p>Open this page from the link in the email we sent you: the link carries the code that proves the address is yours.</p>}
      {typeof state === "object" && <ProblemView problem={state} />}
    </section>
  );
}
