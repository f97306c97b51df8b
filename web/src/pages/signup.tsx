import { useEffect, useState } from "preact/hooks";
import { api } from "../api";
import { ApiForm, Field, text } from "../components/form";
import { useTitle } from "../title";

export function SignupPage() {
  useTitle("Create an account");
  const [policyVersion, setPolicyVersion] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  useEffect(() => {
    void api.GET("/v1/policy").then(({ data }) => setPolicyVersion(data?.version ?? null));
  }, []);
  if (done)
    return (
      <section aria-labelledby="signup-title">
        <h1 id="signup-title">Check your email</h1>
        <p role="status">{done}</p>
        <p>
          Then <a href="/login">sign in</a>.
        </p>
      </section>
    );
  return (
    <section aria-labelledby="signup-title">
      <h1 id="signup-title">Create an account</h1>
      <ApiForm
        label="Create account"
        busyLabel="Creating…"
        onSubmit={async (form) => {
          // The 18+ box is required: the browser does not submit the form unticked.
          const { data, error } = await api.POST("/v1/auth/signup", {
            body: { username: text(form, "username"), email: text(form, "email"), password: text(form, "password"), policyVersion: policyVersion ?? "", ageConfirmed: true },
          });
          if (data) setDone(`${data.message} Open the link we sent to ${text(form, "email")} to verify the address.`);
          return error;
        }}
      >
        <Field name="username" label="Username" autoComplete="username" hint="3 to 32 characters: letters, digits, - or _, starting with a letter." />
        <Field name="email" label="Email address" type="email" autoComplete="email" />
        <Field name="password" label="Password" type="password" autoComplete="new-password" minLength={8} hint="At least 8 characters; a long phrase of unrelated words is best." />
        <div class="check">
          <input id="age" name="age" type="checkbox" required />
          <label for="age">I am 18 or older.</label>
        </div>
        <div class="check">
          <input id="policy" name="policy" type="checkbox" required />
          <label for="policy">
            I have read and accept the <a href="/privacy">privacy policy</a>
            {policyVersion ? ` (version ${policyVersion})` : ""}.
          </label>
        </div>
      </ApiForm>
      <p>
        Already have an account? <a href="/login">Sign in</a>.
      </p>
    </section>
  );
}
