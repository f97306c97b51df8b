/**
 * A local fake of Stripe's API (Node, started by test/global-setup.ts) that records every request
 * the Worker makes, so tests assert exactly which fields leave the platform (policy §4). It answers
 * the few calls billing makes, keeping Stripe's rules that the code relies on: a POST repeated
 * with the same Idempotency-Key gets the first answer again; a meter event identifier is accepted
 * once (GET /__meter_events lists those accepted); customers and subscriptions exist until
 * deleted or canceled, then answer 404 (as Stripe does for a canceled subscription); a customer's
 * email can be updated (POST) until then.
 * Subscriptions are put in place by tests (POST /__subscriptions with the object as JSON), which
 * is how a test says what Stripe's current state is. `failing: true` answers customer creation
 * (and the test paths) but fails everything else (502 tests). GET /__requests returns what was
 * recorded. The `/__` paths are not Stripe's.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { RecordedStripeRequest } from "./provided-context.d.ts";

const randomPart = () => Math.random().toString(36).slice(2, 14);

interface Answer {
  status: number;
  body: unknown;
}

const missing = (what: string, id: string): Answer => ({ status: 404, body: { error: { type: "invalid_request_error", code: "resource_missing", message: `No such ${what}: '${id}'` } } });

export async function startFakeStripe(options: { failing?: boolean } = {}): Promise<{ url: string; close: () => Promise<void> }> {
  const recorded: RecordedStripeRequest[] = [];
  /** Accepted meter events by identifier: a second event with one is refused, as Stripe does. */
  const meterEvents = new Map<string, Record<string, unknown>>();
  const customers = new Set<string>();
  const subscriptions = new Map<string, Record<string, unknown>>();
  /** Answers by Idempotency-Key (POSTs only, as Stripe keys them). */
  const answered = new Map<string, Answer>();

  function answer(method: string, path: string, form: Record<string, string>): Answer {
    if (method === "POST" && path === "/v1/customers") {
      const id = `cus_${randomPart()}`;
      customers.add(id);
      return { status: 200, body: { id, object: "customer", email: form.email ?? null } };
    }
    if (options.failing) return { status: 500, body: { error: { type: "api_error", message: "fake Stripe is failing on purpose" } } };
    if (method === "POST" && path === "/v1/checkout/sessions") {
      const id = `cs_test_${randomPart()}`;
      return { status: 200, body: { id, object: "checkout.session", url: `https://checkout.stripe.test/c/pay/${id}`, customer: form.customer ?? null } };
    }
    if (method === "POST" && path === "/v1/billing_portal/sessions") {
      const id = `bps_${randomPart()}`;
      return { status: 200, body: { id, object: "billing_portal.session", url: `https://billing.stripe.test/p/session/${id}`, customer: form.customer ?? null } };
    }
    if (method === "POST" && path === "/v1/billing/meter_events") {
      const identifier = form.identifier ?? `mev_${randomPart()}`;
      if (meterEvents.has(identifier)) return { status: 400, body: { error: { type: "invalid_request_error", code: "resource_already_exists", message: "An event with this identifier already exists." } } };
      const event = { object: "billing.meter_event", event_name: form.event_name, identifier, timestamp: Number(form.timestamp), payload: { stripe_customer_id: form["payload[stripe_customer_id]"], value: form["payload[value]"] } };
      meterEvents.set(identifier, event);
      return { status: 200, body: event };
    }
    const subscription = /^\/v1\/subscriptions\/(sub_[A-Za-z0-9_]+)$/.exec(path)?.[1];
    if (subscription) {
      const object = subscriptions.get(subscription);
      if (method === "GET") return object ? { status: 200, body: object } : missing("subscription", subscription);
      // Canceling a canceled subscription is a 404 at Stripe too.
      if (method === "DELETE") {
        if (!object || object.status === "canceled") return missing("subscription", subscription);
        object.status = "canceled";
        return { status: 200, body: object };
      }
    }
    const customer = /^\/v1\/customers\/(cus_[A-Za-z0-9_]+)$/.exec(path)?.[1];
    if (customer && method === "DELETE") {
      if (!customers.delete(customer)) return missing("customer", customer);
      return { status: 200, body: { id: customer, object: "customer", deleted: true } };
    }
    if (customer && method === "POST") {
      if (!customers.has(customer)) return missing("customer", customer);
      return { status: 200, body: { id: customer, object: "customer", email: form.email ?? null } };
    }
    return { status: 404, body: { error: { type: "invalid_request_error", message: `fake Stripe has no ${method} ${path}` } } };
  }

  const send = (res: ServerResponse, { status, body }: Answer) => {
    res.writeHead(status, { "Content-Type": "application/json", "Request-Id": `req_${randomPart()}` });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const [path = "/", search = ""] = (req.url ?? "/").split("?");
      const method = req.method ?? "";
      const text = Buffer.concat(chunks).toString("utf8");
      if (method === "GET" && path === "/__requests") return send(res, { status: 200, body: recorded });
      if (method === "GET" && path === "/__meter_events") return send(res, { status: 200, body: [...meterEvents.values()] });
      if (method === "POST" && path === "/__subscriptions") {
        const object = JSON.parse(text) as Record<string, unknown> & { id: string };
        subscriptions.set(object.id, object);
        return send(res, { status: 200, body: object });
      }
      const form = Object.fromEntries(new URLSearchParams(text));
      const key = req.headers["idempotency-key"];
      const idempotencyKey = typeof key === "string" ? key : null;
      recorded.push({ method, path, form, query: Object.fromEntries(new URLSearchParams(search)), idempotencyKey, authorized: /^Bearer sk_test_/.test(req.headers.authorization ?? "") });
      const replay = method === "POST" && idempotencyKey ? answered.get(idempotencyKey) : undefined;
      if (replay) return send(res, replay);
      const result = answer(method, path, form);
      if (method === "POST" && idempotencyKey) answered.set(idempotencyKey, result);
      return send(res, result);
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
