/**
 * The chaos cluster's per-node TCP proxy (scripts/cluster/tcp-proxy.ts) against an echo server on
 * loopback: bytes pass both ways, a cut drops open connections and refuses new ones, a restore
 * listens on the same port again.
 */
import { createConnection, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTcpProxy, type TcpProxy } from '../../scripts/cluster/tcp-proxy.ts';

let echo: Server;
let proxy: TcpProxy;

beforeAll(async () => {
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', () => r()));
  const addr = echo.address();
  proxy = await startTcpProxy(typeof addr === 'object' && addr ? addr.port : 0);
});

afterAll(async () => {
  await proxy.close();
  await new Promise<void>((r) => echo.close(() => r()));
});

/** Connects through the proxy; resolves with the socket, rejects with the connect error. */
function connect() {
  return new Promise<import('node:net').Socket>((resolve, reject) => {
    const s = createConnection({ host: '127.0.0.1', port: proxy.port }, () => resolve(s));
    s.once('error', reject);
  });
}

function roundTrip(s: import('node:net').Socket, text: string) {
  return new Promise<string>((resolve) => {
    s.once('data', (d) => resolve(d.toString()));
    s.write(text);
  });
}

describe('startTcpProxy', () => {
  it('passes bytes both ways', async () => {
    const s = await connect();
    expect(await roundTrip(s, 'ping')).toBe('ping');
    expect(proxy.connections).toBe(1);
    s.destroy();
  });

  it('a cut closes open connections and refuses new ones; a restore serves again', async () => {
    const s = await connect();
    const closed = new Promise<void>((r) => s.once('close', () => r()));
    await proxy.cut();
    expect(proxy.isCut).toBe(true);
    await closed;
    await expect(connect()).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    await proxy.restore();
    const again = await connect();
    expect(await roundTrip(again, 'back')).toBe('back');
    again.destroy();
  });
});
