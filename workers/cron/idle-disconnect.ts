import { disconnectIdleSessions } from "../domain/sessions";
import type { Job } from ".";
import { withProvisioner } from "./hosts";

/** Every minute, after the usage samples of the tick are in: idle sessions are disconnected and their users emailed. */
export const idleDisconnectJob: Job = {
  name: "idle-disconnect",
  run: (ctx) => withProvisioner(ctx, () => disconnectIdleSessions(ctx)),
};
