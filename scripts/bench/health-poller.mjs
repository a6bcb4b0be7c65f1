// A /health poller on its own thread (see load.ts pollHealth): GET every intervalMs over one
// keep-alive connection; on "stop" it posts back every latency, and the event-loop lag each answer
// reported (load.event_loop_lag_ms: the node's worst in the last second). Plain JS: no loader needed.
import { Agent, get } from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

const { url, intervalMs } = workerData;
const agent = new Agent({ keepAlive: true, maxSockets: 1 });
const latenciesMs = [];
const loopLagMs = [];
let failures = 0;
let running = true;

function once() {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = get(url, { agent, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => {
        latenciesMs.push(performance.now() - started);
        try {
          const lag = JSON.parse(body)?.load?.event_loop_lag_ms;
          if (typeof lag === 'number') loopLagMs.push(lag);
        } catch {
          // not the node's JSON: no lag to record
        }
        if (res.statusCode !== 200) failures++;
        resolve();
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => {
      failures++;
      latenciesMs.push(performance.now() - started);
      resolve();
    });
  });
}

parentPort.on('message', (m) => {
  if (m === 'stop') running = false;
});

(async () => {
  let next = performance.now();
  while (running) {
    await once();
    next += intervalMs;
    const wait = next - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    else next = performance.now();
  }
  agent.destroy();
  parentPort.postMessage({ latenciesMs, failures, loopLagMs });
})();
