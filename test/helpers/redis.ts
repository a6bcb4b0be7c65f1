/**
 * Redis for the integration tests: a private redis-server per test file (so a test may kill or
 * restart it without touching anyone else's), and a unique REDIS_PREFIX per test so that the
 * log, the fence and the BullMQ queues of one test never meet another's.
 */
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/** e.g. `t-repl-lk3x9a-1f2e3d`: letters, digits and dashes only, as REDIS_PREFIX accepts. */
export function uniquePrefix(label = 't'): string {
  return `${label.replace(/[^A-Za-z0-9-]/g, '-')}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}

/** A plain ioredis client for assertions (XRANGE, HGETALL); the caller must `disconnect()` it. */
export function redisClient(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  return client;
}
