/**
 * The node's lifecycle rules that need no process: where it says peers reach it (ADVERTISE_URL,
 * never a wildcard address), the data directory's write probe, which BullMQ 'failed' event is a
 * job's last, and the version a job's writes carry.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { advertiseProblem, advertiseUrl } from '../../worker-node/config.ts';
import { isFinalFailure } from '../../worker-node/ingest/ingest-queue.ts';
import { DiskProbe } from '../../worker-node/telemetry/disk.ts';
import { jobVersion } from '../../worker-node/write-path.ts';

describe('ADVERTISE_URL', () => {
  it('defaults to http://HOST:PORT (the bound port) for a concrete HOST', () => {
    expect(advertiseProblem({ HOST: '127.0.0.1' })).toBeNull();
    expect(advertiseUrl({ HOST: '127.0.0.1' }, 43211)).toBe('http://127.0.0.1:43211');
    expect(advertiseUrl({ HOST: '::1' }, 8081)).toBe('http://[::1]:8081');
    expect(advertiseUrl({ HOST: 'gpu-a.internal' }, 8081)).toBe('http://gpu-a.internal:8081');
  });

  it.each(['0.0.0.0', '::', '[::]'])('is required when HOST=%s, naming ADVERTISE_URL', (host) => {
    expect(advertiseProblem({ HOST: host })).toMatch(/^missing setting ADVERTISE_URL: HOST=/);
    expect(advertiseProblem({ HOST: host, ADVERTISE_URL: 'http://10.0.0.5:8081' })).toBeNull();
  });

  it('is used as given (without a trailing slash) and never names a wildcard address', () => {
    expect(advertiseUrl({ HOST: '0.0.0.0', ADVERTISE_URL: 'https://gpu-a.example.com/' }, 8081)).toBe(
      'https://gpu-a.example.com',
    );
    for (const url of ['http://0.0.0.0:8081', 'http://[::]:8081'])
      expect(advertiseProblem({ HOST: '127.0.0.1', ADVERTISE_URL: url })).toMatch(
        /^invalid setting ADVERTISE_URL=.*peers cannot reach/,
      );
  });
});

describe('data directory write probe', () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });

  it('says ok for a writable directory and leaves no file behind, and why not otherwise', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gte-disk-'));
    dirs.push(dir);
    const probe = new DiskProbe(dir);
    expect(probe.state).toBe('not probed yet');
    await probe.probe();
    expect(probe.state).toBe('ok');
    const missing = new DiskProbe(join(dir, 'gone'));
    await missing.probe();
    expect(missing.state).toMatch(/^not writable: ENOENT/);
  });
});

describe('ingest job failures and versions', () => {
  it('counts only the last attempt of a job as its failure', () => {
    const opts = { attempts: 12 };
    expect(isFinalFailure({ finishedOn: undefined, attemptsMade: 3, opts })).toBe(false);
    expect(isFinalFailure({ finishedOn: 1_750_000_000_000, attemptsMade: 12, opts })).toBe(true);
    // An unrecoverable error ends a job early: BullMQ sets finishedOn then too.
    expect(isFinalFailure({ finishedOn: 1_750_000_000_000, attemptsMade: 1, opts })).toBe(true);
  });

  it("versions a job's writes by its queue id, and refuses an id that is not a counter value", () => {
    expect(jobVersion('42')).toBe(42);
    for (const id of [undefined, '', '0', 'custom-id', '1e3', '12345678901234567'])
      expect(() => jobVersion(id)).toThrow(/not a queue counter value/);
  });
});
