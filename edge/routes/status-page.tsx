/**
 * GET /status: a server-rendered page for humans (nodes with role, state, applied position, lag,
 * GPU; the epoch; the failover history as a timeline of each one's steps). It reloads itself
 * every 2 s with a meta refresh: no script, nothing to keep in sync with the JSON API.
 * The view is in status-page/view.tsx. Node URLs, parts, the probe loop and the failover reports'
 * steps are shown only to a request with the admin token.
 */
import { Hono } from 'hono';
import { publicStatus } from '../../shared/edge-api.ts';
import { coordinator } from '../env.ts';
import { type AppEnv, hasAdminToken } from '../http.ts';
import { log } from '../log.ts';
import { StatusPage, StatusPageError } from './status-page/view.tsx';

const REFRESH_SECONDS = 2;
/** Failovers on the page; the newest few get their full report (steps), one RPC each. */
const LISTED = 20;
const DETAILED = 5;

export const statusPageRoutes = new Hono<AppEnv>().get('/status', async (c) => {
  const headers = { 'cache-control': 'no-store' };
  try {
    const stub = coordinator(c.env);
    const admin = await hasAdminToken(c);
    const [full, summaries] = await Promise.all([stub.status(), stub.listFailovers(LISTED)]);
    const status = admin ? full : publicStatus(full);
    const detailed = admin ? summaries.slice(0, DETAILED) : [];
    const reports = await Promise.all(detailed.map((s) => stub.getFailover(s.id)));
    const failovers = summaries.map((summary, i) => ({ summary, report: reports[i] ?? null }));
    const page = (
      <StatusPage status={status} failovers={failovers} now={Date.now()} refreshSeconds={REFRESH_SECONDS} />
    );
    return c.html(`<!doctype html>${page.toString()}`, 200, headers);
  } catch (error) {
    log('error', 'worker', 'status_page.failed', { request_id: c.get('requestId'), error: String(error) });
    const page = (
      <StatusPageError
        message="the coordinator did not answer; see the edge log"
        now={Date.now()}
        refreshSeconds={REFRESH_SECONDS}
      />
    );
    return c.html(`<!doctype html>${page.toString()}`, 503, headers);
  }
});
