import { render } from "preact";
import { ErrorBoundary, LocationProvider, Route, Router } from "preact-iso";
import { Layout } from "./layout";
import { CookiesPage } from "./pages/cookies";
import { DashboardPage } from "./pages/dashboard";
import { FilesPage } from "./pages/files";
import { HomePage } from "./pages/home";
import { LoginPage } from "./pages/login";
import { NotFoundPage } from "./pages/not-found";
import { ResetPasswordPage } from "./pages/reset-password";
import { SignupPage } from "./pages/signup";
import { TerminalPage } from "./pages/terminal";
import { VerifyEmailPage } from "./pages/verify-email";

function App() {
  return (
    <LocationProvider>
      <ErrorBoundary>
        <Layout>
          <Router>
            <Route path="/" component={HomePage} />
            <Route path="/signup" component={SignupPage} />
            <Route path="/verify-email" component={VerifyEmailPage} />
            <Route path="/login" component={LoginPage} />
            <Route path="/reset-password" component={ResetPasswordPage} />
            <Route path="/dashboard" component={DashboardPage} />
            <Route path="/terminal" component={TerminalPage} />
            <Route path="/sessions/:id/terminal" component={TerminalPage} />
            <Route path="/files" component={FilesPage} />
            <Route path="/cookies" component={CookiesPage} />
            <Route default component={NotFoundPage} />
          </Router>
        </Layout>
      </ErrorBoundary>
    </LocationProvider>
  );
}

render(<App />, document.getElementById("app")!);
