import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { ApiForm, Field, text } from "../components/form";
import { takeFragmentToken } from "../fragment";
import { useTitle } from "../title";

/** Without a token: ask for a reset link. From the emailed link (`#token=…`): choose the new password. */
export function ResetPasswordPage() {
  useTitle("Reset your password");
  // Read after the first render: the router settles the address first, and would put the fragment back.
  const [token, setToken] = useState<string | null | undefined>(undefined);
  useEffect(() => setToken(takeFragmentToken()), []);
  const [done, setDone] = useState<string | null>(null);
  return (
    <section aria-labelledby="reset-title">
      <h1 id="reset-title">Reset your password</h1>
      {done ? (
        <p role="status">{done}</p>
      ) : token === undefined ? null : token ? (
        <ApiForm
          label="Set the new password"
          busyLabel="Saving…"
          onSubmit={async (form) => {
            const { error } = await api.POST("/v1/auth/password-reset/confirm", { body: { token, password: text(form, "password") } });
            if (!error) setDone("Your password is changed, and every earlier sign-in has ended. Sign in with the new password.");
            return error;
          }}
        >
          <Field name="password" label="New password" type="password" autoComplete="new-password" minLength={8} hint="At least 8 characters; a long phrase of unrelated words is best." />
        </ApiForm>
      ) : (
        <ApiForm
          label="Email me a reset link"
          busyLabel="Sending…"
          onSubmit={async (form) => {
            const { data, error } = await api.POST("/v1/auth/password-reset", { body: { email: text(form, "email") } });
            if (data) setDone(data.message);
            return error;
          }}
        >
          <Field name="email" label="Your account's email address" type="email" autoComplete="email" />
        </ApiForm>
      )}
      <p>
        <a href="/login">Back to sign in</a>
      </p>
    </section>
  );
}
