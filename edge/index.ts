/**
 * Worker entry: the Hono app for HTTP, the cron that keeps the coordinator's probe loop armed,
 * and the Durable Object class (wrangler needs it exported from the main module).
 */
import { app } from './app.ts';
import { coordinator, type Env } from './env.ts';
import { log } from './log.ts';

export { ClusterCoordinator } from './coordinator/coordinator.ts';

export default {
  fetch: app.fetch,
  async scheduled(controller, env, ctx) {
    // The cron (1/min) is only the backstop: the alarm re-arms itself every PROBE_INTERVAL_MS.
    ctx.waitUntil(
      coordinator(env)
        .ensureAlarm('cron')
        .then((r) =>
          log(
            r.already_armed ? 'debug' : 'warn',
            'worker',
            r.already_armed ? 'cron.probe_loop_armed' : 'cron.probe_loop_rearmed',
            { cron: controller.cron, ...r },
          ),
        )
        .catch((error: unknown) =>
          log('error', 'worker', 'cron.coordinator_unreachable', { error: String(error) }),
        ),
    );
  },
} satisfies ExportedHandler<Env>;
