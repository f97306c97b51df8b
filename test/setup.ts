import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";

// Each test file gets its own D1 storage; migrations are the real ones drizzle-kit wrote.
await applyD1Migrations(env.DB, env.TEST_MIGRATIONS);
