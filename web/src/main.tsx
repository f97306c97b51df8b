import { render } from "preact";
import { ErrorBoundary, LocationProvider, Route, Router } from "preact-iso";
import { adminOnly } from "./admin-only";
import { Layout } from "./layout";
import { AccountPage } from "./pages/account";
import { BillingPage } from "./pages/billing";
import { CookiesPage } from "./pages/cookies";
import { DashboardPage } from "./pages/dashboard";
import { FilesPage } from "./pages/files";
import { HomePage } from "./pages/home";
import { LoginPage } from "./pages/login";
import { NotFoundPage } from "./pages/not-found";
import { PrivacyPage } from "./pages/privacy";
import { ResetPasswordPage } from "./pages/reset-password";
import { RevertEmailPage } from "./pages/revert-email";
import { SignupPage } from "./pages/signup";
import { TerminalPage } from "./pages/terminal";
import { UsagePage } from "./pages/usage";
import { VerifyEmailPage } from "./pages/verify-email";

// The admin pages are one chunk, fetched only when an admin opens one of them.
const adminPages = () => import("./pages/admin");
const AdminRequestsPage = adminOnly(() => adminPages().then((m) => m.AdminRequestsPage));
const AdminAccountsPage = adminOnly(() => adminPages().then((m) => m.AdminAccountsPage));
const AdminPolicyPage = adminOnly(() => adminPages().then((m) => m.AdminPolicyPage));
const AdminStatsPage = adminOnly(() => adminPages().then((m) => m.AdminStatsPage));

function App() {
  return (
    <LocationProvider>
      <ErrorBoundary>
        <Layout>
          <Router>
            <Route path="/" component={HomePage} />
            <Route path="/signup" component={SignupPage} />
            <Route path="/verify-email" component={VerifyEmailPage} />
            <Route path="/revert-email" component={RevertEmailPage} />
            <Route path="/login" component={LoginPage} />
            <Route path="/reset-password" component={ResetPasswordPage} />
            <Route path="/dashboard" component={DashboardPage} />
            <Route path="/terminal" component={TerminalPage} />
            <Route path="/sessions/:id/terminal" component={TerminalPage} />
            <Route path="/files" component={FilesPage} />
            <Route path="/usage" component={UsagePage} />
            <Route path="/billing" component={BillingPage} />
            <Route path="/account" component={AccountPage} />
            <Route path="/privacy" component={PrivacyPage} />
            <Route path="/cookies" component={CookiesPage} />
            <Route path="/admin" component={AdminRequestsPage} />
            <Route path="/admin/accounts" component={AdminAccountsPage} />
            <Route path="/admin/policy" component={AdminPolicyPage} />
            <Route path="/admin/stats" component={AdminStatsPage} />
            <Route default component={NotFoundPage} />
          </Router>
        </Layout>
      </ErrorBoundary>
    </LocationProvider>
  );
}

render(<App />, document.getElementById("app")!);
