import { execFile } from "node:child_process";
import { chmod } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import Docker from "dockerode";

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
  // An image whose user does not exist: its containers are created, then fail to start (the
  // runtime cannot set up the process), whatever runs as PID 1.
  await run("bash", [
    "-c",
    `docker image inspect ozekai/test-unstartable:local >/dev/null 2>&1 ||
     tar -cf - -T /dev/null | docker import --change 'USER no-such-user' --change 'CMD ["/nonexistent-command"]' - ozekai/test-unstartable:local >/dev/null`,
  ]);
  // Git keeps the executable bit, but a checkout through other tools may not.
  await chmod(here("./fixtures/nvidia-smi/fake-h100-8x.sh"), 0o755);
  await chmod(here("./fixtures/nvidia-smi/fake-failing.sh"), 0o755);
}
