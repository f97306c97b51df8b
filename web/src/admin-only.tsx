import type { ComponentType } from "preact";
import { lazy } from "preact-iso";
import { ProblemView } from "./components/problem";
import { useRole, useSignedIn } from "./signed-in";
import { useTitle } from "./title";

/**
 * An admin page, its code fetched (`load`) only once the account is known to be an admin, so
 * nobody else downloads it; anyone else sees that the page is not for them.
 */
export function adminOnly(load: () => Promise<ComponentType>): ComponentType {
  const Page = lazy(load);
  return function AdminOnly() {
    const signedIn = useSignedIn();
    const { role, problem } = useRole();
    if (signedIn && role === "admin") return <Page />;
    return <Refused waiting={role === undefined && problem === undefined} problem={problem} />;
  };
}

function Refused({ waiting, problem }: { waiting: boolean; problem: ReturnType<typeof useRole>["problem"] }) {
  useTitle("Administration");
  return (
    <section aria-labelledby="admin-title">
      <h1 id="admin-title">Administration</h1>
      <ProblemView problem={problem} />
      {waiting ? (
        <p role="status">Loading…</p>
      ) : (
        !problem && (
          <p data-testid="not-allowed">
            Only administrators may open these pages, and this account is not one. <a href="/dashboard">Back to the dashboard</a>.
          </p>
        )
      )}
    </section>
  );
}
