/** `/v1/account/ssh-keys`: the SSH public keys every session of the account lets in. */
import { createRoute, z } from "@hono/zod-openapi";
import { MIN_RSA_BITS, SSH_KEY_COMMENT_MAX } from "../../../contract/ssh-keys";
import { addSshKey, listSshKeys, MAX_SSH_KEYS, removeSshKey } from "../../domain/accounts";
import { newApp } from "../app";
import { principalOf, requireUser } from "../middleware/auth";
import { limitSignedInRoute } from "../middleware/rate-limit";
import { errorResponses } from "../problem";
import { bearerAuth, jsonBody, jsonResponse } from "../schemas";

const SshKeySchema = z
  .object({
    id: z.string(),
    name: z.string().openapi({ description: "Your label for the key: the name given, else the key line's comment, else its fingerprint" }),
    type: z.string().openapi({ description: "`ssh-ed25519` or `ssh-rsa`", example: "ssh-ed25519" }),
    bits: z.number().int(),
    fingerprint: z.string().openapi({ description: "SHA-256 fingerprint, as `ssh-keygen -lf` prints it", example: "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s" }),
    createdAt: z.string(),
  })
  .openapi("SshKey");

const idParam = z.string().min(1).max(64).openapi({ param: { name: "id", in: "path" } });
const limitKeys = limitSignedInRoute("ssh-keys");

const listRoute = createRoute({
  tags: ["account"],
  security: bearerAuth,
  middleware: requireUser,
  method: "get",
  path: "/",
  summary: "Your SSH public keys: the keys your sessions let in over SSH",
  responses: { 200: jsonResponse(z.object({ keys: z.array(SshKeySchema) }), "The keys, oldest first"), ...errorResponses("unauthorized") },
});

const addRoute = createRoute({
  tags: ["account"],
  security: bearerAuth,
  middleware: [requireUser, limitKeys] as const,
  method: "post",
  path: "/",
  summary: "Add an SSH public key: your running session and every later one let it in",
  description: `Ed25519, or RSA of at least ${MIN_RSA_BITS} bits; DSA, ECDSA, security-key types, smaller RSA and anything else are 422 \`ssh_key_unsupported\` (the detail says why). At most ${MAX_SSH_KEYS} keys. Every connect installs the account's keys of that moment; a change is also pushed to the running session at once (if its host cannot be reached then, from the next connect).`,
  request: {
    body: jsonBody(
      z.strictObject({
        publicKey: z.string().min(1).max(8192).openapi({ description: "One OpenSSH public key line, as in ~/.ssh/id_ed25519.pub", example: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI… you@laptop" }),
        name: z.string().trim().min(1).max(SSH_KEY_COMMENT_MAX).optional().openapi({ description: "A label; default the key line's comment" }),
      }),
    ),
  },
  responses: { 201: jsonResponse(SshKeySchema, "The key, added"), ...errorResponses("validation_failed", "unauthorized", "ssh_key_exists", "ssh_key_unsupported", "rate_limited") },
});

const deleteRoute = createRoute({
  tags: ["account"],
  security: bearerAuth,
  middleware: [requireUser, limitKeys] as const,
  method: "delete",
  path: "/{id}",
  summary: "Remove an SSH key: your running session (at once, its host permitting) and every later one no longer let it in",
  request: { params: z.object({ id: idParam }) },
  responses: { 204: { description: "Removed" }, ...errorResponses("unauthorized", "not_found", "rate_limited") },
});

export const sshKeyRoutes = newApp()
  .openapi(listRoute, async (c) => c.json({ keys: await listSshKeys(c.get("domain"), principalOf(c).user.id) }, 200))
  .openapi(addRoute, async (c) => c.json(await addSshKey(c.get("domain"), principalOf(c).user.id, c.req.valid("json")), 201))
  .openapi(deleteRoute, async (c) => {
    await removeSshKey(c.get("domain"), principalOf(c).user.id, c.req.valid("param").id);
    return c.body(null, 204);
  });
