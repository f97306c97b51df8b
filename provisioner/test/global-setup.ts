import { execFile } from "node:child_process";
import { chmod } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Docker from "dockerode";
import { BROKEN_IMAGE } from "./harness.ts";

const run = promisify(execFile);
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

/**
 * The provisioner is tested against the real Docker Engine: fail at once, with the reason, when it
 * is not reachable, and build the local images the tests use (no registry is reachable here).
 */
export default async function setup(): Promise<void> {
  const docker = new Docker({ socketPath: "/var/run/docker.sock" });
  try {
    await docker.ping();
  } catch (error) {
    throw new Error(
      `provisioner tests need a running Docker Engine on /var/run/docker.sock (start dockerd first): ${error instanceof Error ? error.message : error}`,
    );
  }
  await run("bash", [here("../scripts/build-workspace-image.sh"), "ozekai/workspace:local"]);
  // An image with a file where Docker mounts its init (/sbin/docker-init): its containers are
  // created, then fail to start (a file cannot hold a mount), whatever user they run as.
  await run("bash", [
    "-c",
    `docker image inspect ${BROKEN_IMAGE} >/dev/null 2>&1 || {
       dir="$(mktemp -d)" && touch "$dir/sbin" &&
       tar -C "$dir" -cf - sbin | docker import --change 'CMD ["/nonexistent-command"]' - ${BROKEN_IMAGE} >/dev/null; status=$?; rm -rf "$dir"; exit $status; }`,
  ]);
  // Git keeps the executable bit, but a checkout through other tools may not.
  await chmod(here("./fixtures/nvidia-smi/fake-h100-8x.sh"), 0o755);
  await chmod(here("./fixtures/nvidia-smi/fake-failing.sh"), 0o755);
}
