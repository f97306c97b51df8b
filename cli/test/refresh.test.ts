/**
 * An expired access token is refreshed once, under the profile's lock: concurrent commands sharing
 * one sign-in never present the same refresh token twice (the API would take that for theft and
 * revoke the sign-in).
 */
import { spawn } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { describe, expect, inject, it } from "vitest";
import { expireStoredAccessToken, jsonOf, ozekai, profileFile, readProfile, shown, signedInUser } from "./harness.ts";

describe("refresh of an expired access token", () => {
  it("four whoami started at once with an expired token all succeed, and the sign-in lives on", async () => {
    const user = await signedInUser();
    const before = readProfile(user.configDir);
    const expired = await expireStoredAccessToken(user.configDir);

    const runs = await Promise.all([1, 2, 3, 4].map(() => ozekai(["whoami", "--json"], { configDir: user.configDir })));
    for (const ran of runs) {
      expect(ran.code, shown(ran)).toBe(0);
      expect(jsonOf(ran)).toMatchObject({ ok: true, data: { username: user.username } });
    }
    const after = readProfile(user.configDir);
    expect(after.accessToken).not.toBe(expired);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    expect(existsSync(`${profileFile(user.configDir)}.lock`)).toBe(false);

    // Not revoked: a later command works with what was stored, and so does another refresh.
    const third = await ozekai(["whoami", "--json"], { configDir: user.configDir });
    expect(third.code, shown(third)).toBe(0);
    await expireStoredAccessToken(user.configDir);
    const fourth = await ozekai(["whoami", "--json"], { configDir: user.configDir });
    expect(fourth.code, shown(fourth)).toBe(0);
  });

  it("three status at once with an expired token (each sends five requests at once): all succeed, one refresh, the sign-in lives on", async () => {
    const user = await signedInUser();
    const before = readProfile(user.configDir);
    await expireStoredAccessToken(user.configDir);

    const runs = await Promise.all([1, 2, 3].map(() => ozekai(["status", "--json"], { configDir: user.configDir })));
    for (const ran of runs) {
      expect(ran.code, shown(ran)).toBe(0);
      expect(jsonOf(ran)).toMatchObject({ ok: true, data: { billingNow: false } });
    }
    // One refresh in all: every command retried with the token it stored.
    const after = readProfile(user.configDir);
    expect(after.refreshToken).not.toBe(before.refreshToken);
    const later = await ozekai(["whoami", "--json"], { configDir: user.configDir });
    expect(later.code, shown(later)).toBe(0);
    expect(readProfile(user.configDir)).toEqual(after);
    // A reused refresh token would have revoked the sign-in: the stored one still refreshes.
    await expireStoredAccessToken(user.configDir);
    const refreshed = await ozekai(["status", "--json"], { configDir: user.configDir });
    expect(refreshed.code, shown(refreshed)).toBe(0);
  });

  it("a lock left by a process that died is taken over", async () => {
    const user = await signedInUser();
    await expireStoredAccessToken(user.configDir);
    const dead = spawn(process.execPath, ["-e", ""]);
    const deadPid = await new Promise<number>((resolve) => dead.on("exit", () => resolve(dead.pid!)));
    writeFileSync(`${profileFile(user.configDir)}.lock`, JSON.stringify({ pid: deadPid, host: hostname(), at: new Date().toISOString() }), { mode: 0o600 });

    const ran = await ozekai(["whoami", "--json"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(0);
    expect(existsSync(`${profileFile(user.configDir)}.lock`)).toBe(false);
  });

  it("a refresh the API refuses (the sign-in ended elsewhere): exit 3, and the sign-in is forgotten", async () => {
    const user = await signedInUser();
    const { accessToken } = readProfile(user.configDir);
    await expireStoredAccessToken(user.configDir);
    // Another device ends this sign-in with the still-valid access token.
    const elsewhere = await fetch(`${inject("apiUrl")}/v1/auth/logout`, {
      method: "POST",
      headers: { Authorization: `Bearer ${accessToken}` },
    });
    expect(elsewhere.status).toBe(204);

    const ran = await ozekai(["whoami", "--json"], { configDir: user.configDir });
    expect(ran.code, shown(ran)).toBe(3);
    expect(jsonOf(ran)).toMatchObject({ ok: false, error: { kind: "not_signed_in", status: 401, requestId: expect.any(String) } });
    expect(existsSync(profileFile(user.configDir))).toBe(false);
  });
});
