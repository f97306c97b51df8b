import { useLocation } from "preact-iso";
import { useState } from "preact/hooks";
import { api, forgetSignIn, keepTokens, rememberUsername, type Schemas } from "../api";
import { ApiForm, Field, text } from "../components/form";
import { ProblemView } from "../components/problem";
import { useSignedInLoad } from "../hooks/load";
import { useTitle } from "../title";

type Account = Schemas["Account"];

export function AccountPage() {
  useTitle("Account");
  const { route } = useLocation();
  const account = useSignedInLoad(() => api.GET("/v1/account"));
  const [done, setDone] = useState<string | null>(null);
  const a = account.data;
  return (
    <section aria-labelledby="account-title">
      <h1 id="account-title">Account</h1>
      <ProblemView problem={account.problem} />
      {done && (
        <p class="note" role="status">
          {done}
        </p>
      )}
      {a === undefined ? (
        <p role="status">Loading…</p>
      ) : (
        <>
          <dl class="facts">
            <dt>Username</dt>
            <dd data-testid="account-username">{a.username}</dd>
            <dt>Email</dt>
            <dd data-testid="account-email">
              {a.email} {a.emailVerified ? "(verified)" : "(not verified yet: see the link we emailed)"}
            </dd>
            {a.pendingEmail && (
              <>
                <dt>Changing to</dt>
                <dd>{a.pendingEmail}: confirm from the link sent there</dd>
              </>
            )}
            <dt>Member since</dt>
            <dd>{new Date(a.createdAt).toLocaleDateString()}</dd>
          </dl>
          <CorrectForm account={a} onDone={(message, updated) => {
              setDone(message);
              rememberUsername(updated.username);
              void account.reload();
            }} />
          <h2>Change your password</h2>
          <ApiForm
            label="Change password"
            busyLabel="Changing…"
            onSubmit={async (form) => {
              const { data, error } = await api.PUT("/v1/account/password", { body: { currentPassword: text(form, "currentPassword"), newPassword: text(form, "newPassword") } });
              if (data) {
                await keepTokens(data);
                setDone("Password changed. Every other sign-in (other browsers, the CLI) has ended.");
              }
              return error;
            }}
          >
            <Field name="currentPassword" label="Current password" type="password" autoComplete="current-password" />
            <Field name="newPassword" label="New password" type="password" autoComplete="new-password" minLength={12} hint="At least 12 characters." />
          </ApiForm>
          <DeleteForm
            username={a.username}
            onDeleted={() => {
              forgetSignIn();
              route("/?deleted=1");
            }}
          />
        </>
      )}
    </section>
  );
}

/** Correcting the username or email (policy §7) needs the current password: a stolen sign-in alone cannot take the account. */
function CorrectForm({ account, onDone }: { account: Account; onDone: (message: string, updated: Account) => void }) {
  return (
    <>
      <h2>Correct your username or email</h2>
      <ApiForm
        label="Save"
        busyLabel="Saving…"
        onSubmit={async (form) => {
          const username = text(form, "username");
          const email = text(form, "email");
          const body = {
            ...(username !== account.username ? { username } : {}),
            ...(email !== account.email ? { email } : {}),
            currentPassword: text(form, "currentPasswordCorrect"),
          };
          const { data, error } = await api.PATCH("/v1/account", { body });
          if (data) onDone(body.email ? `Saved. Confirm ${body.email} from the link we sent there; ${account.email} can undo the change.` : "Saved.", data);
          return error;
        }}
      >
        <Field name="username" label="Username" defaultValue={account.username} autoComplete="username" />
        <Field name="email" label="Email address" defaultValue={account.email} type="email" autoComplete="email" />
        <Field name="currentPasswordCorrect" label="Current password" type="password" autoComplete="current-password" />
      </ApiForm>
    </>
  );
}

/** Deleting the account (policy §7): the password, and the username typed, so it is never a slip. */
function DeleteForm({ username, onDeleted }: { username: string; onDeleted: () => void }) {
  const [typed, setTyped] = useState("");
  const [problem, setProblem] = useState<Schemas["Problem"] | undefined>();
  const [password, setPassword] = useState("");
  return (
    <form
      class="danger"
      onSubmit={async (event) => {
        event.preventDefault();
        if (typed !== username) return;
        const { error } = await api.DELETE("/v1/account", { body: { password } });
        setProblem(error);
        if (!error) onDeleted();
      }}
    >
      <h2>Delete your account</h2>
      <p>
        Every sign-in ends, your workspace and files are deleted everywhere, your subscription is canceled at Stripe without a final invoice, and your personal data is erased. Only what billing law
        requires is kept, under a pseudonymous id. It cannot be undone.
      </p>
      <label for="delete-password">Password</label>
      <input id="delete-password" type="password" autoComplete="current-password" value={password} onInput={(e) => setPassword(e.currentTarget.value)} required />
      <label for="confirm-delete">
        Type your username (<code>{username}</code>) to confirm
      </label>
      <input id="confirm-delete" value={typed} onInput={(e) => setTyped(e.currentTarget.value)} autoComplete="off" />
      <ProblemView problem={problem} />
      <button type="submit" class="danger" disabled={typed !== username || password === ""}>
        Delete my account
      </button>
    </form>
  );
}
