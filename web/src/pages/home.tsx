import { useTitle } from "../title";

export function HomePage() {
  useTitle("GPU containers with a persistent workspace");
  return (
    <section class="hero" aria-labelledby="hero-title">
      <h1 id="hero-title">GPU containers with a workspace that stays</h1>
      <p class="lead">
        Connect to an isolated GPU container in seconds. Your files persist between sessions; billing runs only while you are connected, and you can always see what is billing
        now.
      </p>
      <ul class="points">
        <li>One command to connect, disconnect or destroy — from the website or the <code>ozekai</code> CLI.</li>
        <li>Your workspace is never read by us, and you can download it whenever you are connected.</li>
        <li>No cookies, no analytics, nothing loaded from anyone else.</li>
      </ul>
    </section>
  );
}
