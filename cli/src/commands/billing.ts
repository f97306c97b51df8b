/** plans, subscribe, billing. */
import { spawn } from "node:child_process";
import type { paths } from "@ozekai/client";
import { money } from "../format.ts";
import { table } from "../output.ts";
import { type Program, run } from "../run.ts";
import { openSession, unwrap } from "../session.ts";

type CheckoutBody = NonNullable<paths["/v1/billing/checkout"]["post"]["requestBody"]>["content"]["application/json"];

/** A desktop to open a browser on: macOS, Windows, or a Linux/BSD session with a display. */
const hasDesktop = () => process.platform === "darwin" || process.platform === "win32" || Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);

/** Opens `url` in the desktop's browser, detached; a failure only means the user opens it. */
function openInBrowser(url: string): boolean {
  const [command, args] =
    process.platform === "darwin" ? ["open", [url]] : process.platform === "win32" ? ["cmd", ["/c", "start", "", url]] : ["xdg-open", [url]];
  try {
    const child = spawn(command, args as string[], { detached: true, stdio: "ignore" });
    child.on("error", () => undefined);
    child.unref();
    return true;
  } catch {
    return false;
  }
}

export function registerBillingCommands(program: Program) {
  program
    .command("plans")
    .description("The plans and their prices")
    .action((_options, command) =>
      run(command, async ({ globals }) => {
        const { plans } = unwrap(await openSession(globals).client.api.GET("/v1/plans"));
        const rows = plans.map((p): [string, string] => [
          p.id,
          `${p.name} · ${p.gpuCount > 0 ? `${p.gpuCount}× ${p.gpuType}` : "no GPU"} · ${p.cpus} CPU · ${Math.round(p.memoryMb / 1024)} GiB · ${money(p.pricePerHourCents)}/h${p.purchasable ? "" : " (not sold here)"}`,
        ]);
        return { data: { plans }, lines: table(rows) };
      }),
    );

  program
    .command("subscribe")
    .description("Start a Stripe Checkout for a plan: prints its page and, on a desktop, opens it")
    .argument("<plan>", "a plan id from `ozekai plans`")
    .option("--no-open", "only print the Checkout page, do not open a browser")
    .action((plan, options, command) =>
      run(command, async ({ out, globals }) => {
        const session = openSession(globals);
        await session.requireSignIn();
        // Any name goes to the API, whose catalog is the truth: an unknown plan is its 400 (exit 2).
        const planId = plan as CheckoutBody["planId"];
        const { url } = unwrap(await session.client.api.POST("/v1/billing/checkout", { body: { planId } }));
        // Never from a script or a test: only for a person at a terminal on a desktop.
        const opened = options.open && !globals.json && process.stdout.isTTY === true && hasDesktop() && openInBrowser(url);
        if (opened) out.note("Opened the Checkout page in your browser.");
        return { data: { planId: plan, url, opened }, lines: [`Subscribe to ${plan} on this Stripe Checkout page:`, url] };
      }),
    );

  program
    .command("billing")
    .description("Your plan, subscription status and billing period")
    .action((_options, command) =>
      run(command, async ({ globals }) => {
        const session = openSession(globals);
        await session.requireSignIn();
        const billing = unwrap(await session.client.api.GET("/v1/billing"));
        const rows: [string, string][] = [
          ["plan", billing.planId ?? "none (`ozekai plans`, then `ozekai subscribe <plan>`)"],
          ["subscription", billing.status ?? "none"],
        ];
        if (billing.currentPeriodEnd) rows.push(["period ends", billing.currentPeriodEnd]);
        if (billing.graceEndsAt) rows.push(["payment failed: sessions stop at", billing.graceEndsAt]);
        return { data: billing, lines: table(rows) };
      }),
    );
}
