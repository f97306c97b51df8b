/**
 * The image catalog: GET /v1/images, connect's `image`, what the session records, and the host's
 * own allowlist. Sessions here run `minimal` (DEFAULT_IMAGE in vitest.config.ts) unless a test
 * asks for another; one runs Python on `base`.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { defaultImageFor, IMAGES, PLANS } from "../workers/domain/plans";
import { call, expectProblem, testEnv } from "./harness";
import { connect, containersOf, entitledUser, liveSessionsOf, sessionRowsOf } from "./provisioner-harness";
import { runExec } from "./socket-harness";

describe("GET /v1/images", () => {
  it("is public and lists the catalog without the hosts' references", async () => {
    const res = await call("GET", "/v1/images");
    expect(res.status).toBe(200);
    expect(res.json.images.map((i: { name: string }) => i.name)).toEqual(["minimal", "base", "cuda", "pytorch"]);
    expect(res.json.images.find((i: { name: string }) => i.name === "pytorch")).toEqual({
      name: "pytorch",
      description: expect.any(String),
      plans: ["h100-1", "h100-8"],
      defaultFor: ["h100-1", "h100-8"],
      jupyter: true,
      ssh: true,
    });
    expect(res.json.images.filter((i: { ssh: boolean }) => !i.ssh).map((i: { name: string }) => i.name)).toEqual(["minimal"]);
    expect(res.text).not.toContain(":local");
  });

  it("gives every plan exactly one default that it may run: base on CPU plans, pytorch on GPU plans", () => {
    for (const plan of PLANS) {
      expect(IMAGES.filter((image) => image.defaultFor.includes(plan.id)).length, plan.id).toBe(1);
      const image = defaultImageFor(plan.id)!;
      expect(image.plans, plan.id).toContain(plan.id);
      expect(image.name, plan.id).toBe(plan.gpuType === null ? "base" : "pytorch");
    }
    for (const image of IMAGES) for (const planId of image.plans) expect(PLANS.map((p) => p.id)).toContain(planId);
  });
});

describe("connect with an image", () => {
  it("runs the deployment's default when none is named, and the session records and shows it", async () => {
    const user = await entitledUser();
    const res = await connect(user);
    expect(res.status, res.text).toBe(201);
    expect(res.json.image).toBe("minimal");
    expect((await sessionRowsOf(user.id))[0]).toMatchObject({ image: "minimal" });
    const listed = await call("GET", "/v1/sessions", { token: user.accessToken });
    expect(listed.json.sessions[0].image).toBe("minimal");
    // No SSH server in it: the host skipped the SSH step, so the workspace has no host key.
    expect((await call("GET", "/v1/workspace", { token: user.accessToken })).json.sshHostKey).toBeNull();
  });

  it("runs base when asked: Python 3 works in it, and a connect for another image is refused while it runs", async () => {
    const user = await entitledUser();
    const res = await connect(user, { image: "base" });
    expect(res.status, res.text).toBe(201);
    expect(res.json.image).toBe("base");
    const python = await runExec(user, res.json.id, ["python3", "-c", "print(1+1)"]);
    expect(python).toMatchObject({ stdout: "2\n", exitCode: 0 });
    // Its sshd started and the workspace made its host key.
    expect((await call("GET", "/v1/workspace", { token: user.accessToken })).json.sshHostKey).toMatchObject({ fingerprint: expect.stringMatching(/^SHA256:/) });
    expect((await connect(user, { image: "base" })).status).toBe(200);
    // No image named: the live session, whatever it runs (connect stays idempotent).
    expect((await connect(user)).json).toMatchObject({ id: res.json.id, image: "base" });
    expectProblem(await connect(user, { image: "minimal" }), 409, "session_image_differs");
    expect(await liveSessionsOf(user.id)).toHaveLength(1);
  });

  it("an unknown name is 422 and an image the plan may not run is 409, before anything is made", async () => {
    const user = await entitledUser();
    expectProblem(await connect(user, { image: "ubuntu:latest" }), 422, "unknown_image");
    expectProblem(await connect(user, { image: "pytorch" }), 409, "image_not_in_plan");
    expectProblem(await call("POST", "/v1/sessions", { ip: user.ip, token: user.accessToken, body: { image: "" } }), 400, "validation_failed");
    expect(await sessionRowsOf(user.id)).toEqual([]);
    expect(await containersOf(user.id)).toEqual([]);
  });

  it("a DEFAULT_IMAGE that is not in the catalog is 503 not_configured", async () => {
    const user = await entitledUser();
    expectProblem(await connect(user, { env: { ...testEnv(), DEFAULT_IMAGE: "ozekai/workspace:local" } as Cloudflare.Env }), 503, "not_configured");
    expect(await sessionRowsOf(user.id)).toEqual([]);
  });
});

describe("the host's allowlist (PROVISIONER_IMAGES)", () => {
  it("a host that does not allow the image refuses it: 503 not_configured, logged for the operator, nothing left", async () => {
    const user = await entitledUser();
    const narrow = { ...testEnv(), PROVISIONER_URL: env.TEST_NARROW_PROVISIONER_URL } as Cloudflare.Env;
    const res = await connect(user, { image: "base", env: narrow });
    expectProblem(res, 503, "not_configured");
    expect(await liveSessionsOf(user.id)).toEqual([]);
    expect((await sessionRowsOf(user.id))[0]).toMatchObject({ state: "failed", image: "base", failure_code: "not_configured" });
    const logged = await env.DB.prepare("select code, message from error_logs where request_id = ? and source = 'provisioner'").bind(res.headers.get("X-Request-Id")).all<{ code: string; message: string }>();
    expect(logged.results).toContainEqual({ code: "provisioner_422", message: expect.stringContaining("image_not_allowed ozekai/base:local") });
    // The image it allows still starts there.
    const allowed = await connect(user, { image: "minimal", env: narrow });
    expect(allowed.status, allowed.text).toBe(201);
    // Its workspace disk lives under that host's own directory: destroyed through it.
    expect((await call("DELETE", "/v1/workspace", { ip: user.ip, token: user.accessToken, env: narrow })).status).toBeLessThan(300);
  });
});
