import type { ComponentChildren, InputHTMLAttributes } from "preact";
import { useState } from "preact/hooks";
import { networkProblem, type Problem } from "../api";
import { ProblemView } from "./problem";

/**
 * A form whose submit calls the API once at a time: the button says it is working, a problem is
 * shown above the button, and nothing is sent twice on a double click.
 */
export function ApiForm({ label, busyLabel, onSubmit, children }: { label: string; busyLabel: string; onSubmit: (data: FormData) => Promise<Problem | undefined>; children: ComponentChildren }) {
  const [busy, setBusy] = useState(false);
  const [problem, setProblem] = useState<Problem | undefined>();
  return (
    <form
      class="form"
      onSubmit={async (event) => {
        event.preventDefault();
        if (busy) return;
        setBusy(true);
        setProblem(undefined);
        try {
          setProblem(await onSubmit(new FormData(event.currentTarget)));
        } catch (error) {
          setProblem(networkProblem(error));
        } finally {
          setBusy(false);
        }
      }}
    >
      {children}
      <ProblemView problem={problem} />
      <button type="submit" disabled={busy} aria-busy={busy}>
        {busy ? busyLabel : label}
      </button>
    </form>
  );
}

export function Field({
  name,
  label,
  type = "text",
  autoComplete,
  hint,
  required = true,
  minLength,
  defaultValue,
}: { name: string; label: string; type?: "text" | "email" | "password" | "date"; autoComplete?: string; hint?: string; required?: boolean; minLength?: number; defaultValue?: string }) {
  const hintId = hint ? `${name}-hint` : undefined;
  return (
    <div class="field">
      <label for={name}>{label}</label>
      {/* Preact types an input by its literal type; this one is chosen by the caller. */}
      <input {...({ id: name, name, type, autoComplete, required, minLength, defaultValue, "aria-describedby": hintId } as InputHTMLAttributes<HTMLInputElement>)} />
      {hint && (
        <p id={hintId} class="hint">
          {hint}
        </p>
      )}
    </div>
  );
}

/** The text of a form field (FormData values of text inputs are strings). */
export const text = (data: FormData, name: string) => String(data.get(name) ?? "");
