/**
 * A loopback TCP proxy in front of one upstream port (each search node's own way to Redis in a
 * chaos cluster, scripts/cluster/launch.ts `redisProxies`), so that a test can cut one node off
 * Redis while the others keep it: `cut()` destroys every open connection and stops listening (new
 * connections are refused), `restore()` listens again on the same port.
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { freePort } from './ports.ts';

export interface TcpProxy {
  /** Where clients connect (redis://127.0.0.1:PORT for a Redis upstream). */
  port: number;
  readonly isCut: boolean;
  /** Connections currently open through the proxy. */
  readonly connections: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(upstreamPort: number, opts: { port?: number } = {}): Promise<TcpProxy> {
  const port = opts.port ?? (await freePort());
  const open = new Set<Socket>();
  let server: Server | null = null;
  let cut = false;

  const pipe = (client: Socket) => {
    const upstream = createConnection({ host: '127.0.0.1', port: upstreamPort });
    open.add(client).add(upstream);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  };

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer(pipe);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        server = s;
        resolve();
      });
    });

  const stopListening = async () => {
    const s = server;
    server = null;
    for (const socket of open) socket.destroy();
    open.clear();
    if (s) await new Promise<void>((r) => s.close(() => r()));
  };

  await listen();
  return {
    port,
    get isCut() {
      return cut;
    },
    get connections() {
      return open.size / 2;
    },
    async cut() {
      cut = true;
      await stopListening();
    },
    async restore() {
      if (!cut) return;
      await listen();
      cut = false;
    },
    async close() {
      cut = true;
      await stopListening();
    },
  };
}
