import { useLocation } from "preact-iso";
import { signIn } from "../api";
import { ApiForm, Field, text } from "../components/form";
import { useTitle } from "../title";

export function LoginPage() {
  useTitle("Sign in");
  const { route } = useLocation();
  return (
    <section aria-labelledby="login-title">
      <h1 id="login-title">Sign in</h1>
      <ApiForm
        label="Sign in"
        busyLabel="Signing in…"
        onSubmit={async (form) => {
          const problem = await signIn(text(form, "login"), text(form, "password"));
          if (!problem) route("/dashboard");
          return problem;
        }}
      >
        <Field name="login" label="Username or email address" autoComplete="username" />
        <Field name="password" label="Password" type="password" autoComplete="current-password" />
      </ApiForm>
      <p>
        <a href="/reset-password">Forgot your password?</a> · <a href="/signup">Create an account</a>
      </p>
    </section>
  );
}
