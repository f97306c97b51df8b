import { render } from "preact";
import { ErrorBoundary, LocationProvider, Route, Router } from "preact-iso";
import { Layout } from "./layout";
import { CookiesPage } from "./pages/cookies";
import { HomePage } from "./pages/home";
import { NotFoundPage } from "./pages/not-found";

function App() {
  return (
    <LocationProvider>
      <ErrorBoundary>
        <Layout>
          <Router>
            <Route path="/" component={HomePage} />
            <Route path="/cookies" component={CookiesPage} />
            <Route default component={NotFoundPage} />
          </Router>
        </Layout>
      </ErrorBoundary>
    </LocationProvider>
  );
}

render(<App />, document.getElementById("app")!);
