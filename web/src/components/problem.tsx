import type { Problem } from "../api";

/** An API problem as the user sees it: what went wrong, each field's message, and the request id to quote to support. */
export function ProblemView({ problem }: { problem: Problem | undefined }) {
  if (!problem) return null;
  return (
    <div class="problem" role="alert">
      <p>
        <strong>{problem.title}.</strong> {problem.detail}
      </p>
      {problem.errors && problem.errors.length > 0 && (
        <ul>
          {problem.errors.map((e) => (
            <li key={e.field}>
              <code>{e.field}</code>: {e.message}
            </li>
          ))}
        </ul>
      )}
      {problem.requestId && <p class="request-id">Request id: {problem.requestId}</p>}
    </div>
  );
}
