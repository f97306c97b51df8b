import { loadConfig } from "./config.ts";
import { startProvisioner } from "./server.ts";

/** `npm start -w provisioner`: reads its settings from the environment (see provisioner/README.md). */
const provisioner = await startProvisioner(await loadConfig());
console.info(`ozekai provisioner listening on ${provisioner.url}`);

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void provisioner.close().then(() => process.exit(0));
  });
}
