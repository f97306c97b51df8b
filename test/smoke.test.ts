import { describe, expect, it } from "vitest";
import { call, createUser } from "./harness";

describe("smoke", () => {
  it("health", async () => {
    const res = await call("GET", "/healthz");
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ status: "ok" });
  });
  it("signup → verify → login → account", async () => {
    const user = await createUser();
    const me = await call("GET", "/v1/account", { token: user.accessToken });
    expect(me.json.username).toBe(user.username);
    expect(me.json.emailVerified).toBe(true);
  });
});
