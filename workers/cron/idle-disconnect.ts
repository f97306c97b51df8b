import { disconnectIdleSessions } from "../domain/sessions";
import { hostJob } from "./job";

/** Every minute, after the usage samples of the tick are in: idle sessions are disconnected and their users emailed. */
export const idleDisconnectJob = hostJob("idle-disconnect", disconnectIdleSessions);
