import { useTitle } from "../title";

export function NotFoundPage() {
  useTitle("Page not found");
  return (
    <section aria-labelledby="nf-title">
      <h1 id="nf-title">Page not found</h1>
      <p>
        There is no page here. <a href="/">Go to the start page</a>.
      </p>
    </section>
  );
}
