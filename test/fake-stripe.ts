/**
 * A local fake of Stripe's API (Node, started by test/global-setup.ts) that records every request
 * the Worker makes, so tests assert exactly which fields leave the platform (policy §4). It answers
 * the few calls billing makes (meter events: GET /__meter_events lists those accepted); `failing: true` answers customers but fails everything else (502
 * tests). GET /__requests returns what was recorded; it is not a Stripe path.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { RecordedStripeRequest } from "./provided-context.d.ts";

const randomPart = () => Math.random().toString(36).slice(2, 14);

export async function startFakeStripe(options: { failing?: boolean } = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const recorded: RecordedStripeRequest[] = [];
  /** Accepted meter events by identifier: a second event with one is refused, as Stripe does. */
  const meterEvents = new Map<string, Record<string, unknown>>();
  const send = (res: ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { "Content-Type": "application/json", "Request-Id": `req_${randomPart()}` });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = (req.url ?? "/").split("?")[0] ?? "/";
      if (req.method === "GET" && path === "/__requests") return send(res, 200, recorded);
      if (req.method === "GET" && path === "/__meter_events") return send(res, 200, [...meterEvents.values()]);
      const form = Object.fromEntries(new URLSearchParams(Buffer.concat(chunks).toString("utf8")));
      const idempotency = req.headers["idempotency-key"];
      recorded.push({
        method: req.method ?? "",
        path,
        form,
        idempotencyKey: typeof idempotency === "string" ? idempotency : null,
        authorized: /^Bearer sk_test_/.test(req.headers.authorization ?? ""),
      });
      if (req.method === "POST" && path === "/v1/customers") return send(res, 200, { id: `cus_${randomPart()}`, object: "customer", email: form.email ?? null });
      if (options.failing) return send(res, 500, { error: { type: "api_error", message: "fake Stripe is failing on purpose" } });
      if (req.method === "POST" && path === "/v1/checkout/sessions") {
        const id = `cs_test_${randomPart()}`;
        return send(res, 200, { id, object: "checkout.session", url: `https://checkout.stripe.test/c/pay/${id}`, customer: form.customer ?? null });
      }
      if (req.method === "POST" && path === "/v1/billing_portal/sessions") {
        const id = `bps_${randomPart()}`;
        return send(res, 200, { id, object: "billing_portal.session", url: `https://billing.stripe.test/p/session/${id}`, customer: form.customer ?? null });
      }
      if (req.method === "POST" && path === "/v1/billing/meter_events") {
        const identifier = form.identifier ?? `mev_${randomPart()}`;
        if (meterEvents.has(identifier)) return send(res, 400, { error: { type: "invalid_request_error", code: "resource_already_exists", message: "An event with this identifier already exists." } });
        const event = { object: "billing.meter_event", event_name: form.event_name, identifier, timestamp: Number(form.timestamp), payload: { stripe_customer_id: form["payload[stripe_customer_id]"], value: form["payload[value]"] } };
        meterEvents.set(identifier, event);
        return send(res, 200, event);
      }
      const cancel = /^\/v1\/subscriptions\/(sub_[A-Za-z0-9_]+)$/.exec(path);
      if (req.method === "DELETE" && cancel) return send(res, 200, { id: cancel[1], object: "subscription", status: "canceled" });
      return send(res, 404, { error: { type: "invalid_request_error", message: `fake Stripe has no ${req.method} ${path}` } });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the fake Stripe has no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
