/**
 * Arming the probe loop: the Durable Object's alarm fires every PROBE_INTERVAL_MS and re-arms
 * itself; the cron (once a minute) and the first API call only make sure it is armed. Who armed
 * it last, and when, is stored for /api/v1/status.
 */
import type { EdgeConfig } from '../config.ts';
import { log } from '../log.ts';
import type { CoordinatorStore } from './storage.ts';

type AlarmStorage = Pick<DurableObjectStorage, 'getAlarm' | 'setAlarm'>;

export class AlarmLoop {
  /** True once this instance saw an armed alarm: later API calls skip the storage read. */
  private known = false;

  constructor(
    private readonly storage: AlarmStorage,
    private readonly store: CoordinatorStore,
    private readonly config: EdgeConfig,
  ) {}

  next(): Promise<number | null> {
    return this.storage.getAlarm();
  }

  /** The cron's check: arms the loop when no alarm is set. */
  async ensure(source: string): Promise<{ already_armed: boolean; alarm_at: number }> {
    const current = await this.storage.getAlarm();
    if (current !== null) {
      this.known = true;
      return { already_armed: true, alarm_at: current };
    }
    return { already_armed: false, alarm_at: await this.arm(source, 0) };
  }

  /** Starts the loop on first use when there is something to probe (seeded NODES, a registration). */
  async armIfIdle(source: string): Promise<void> {
    if (this.known || this.store.nodes().length === 0) return;
    if ((await this.storage.getAlarm()) === null) await this.arm(source, 0);
    this.known = true;
  }

  /** After each iteration, whatever happened in it: a thrown probe must not stop the loop. */
  async rearm(): Promise<void> {
    await this.storage.setAlarm(Date.now() + this.config.probeIntervalMs);
  }

  private async arm(source: string, delayMs: number): Promise<number> {
    const at = Date.now() + delayMs;
    await this.storage.setAlarm(at);
    this.known = true;
    this.store.setMeta('alarm_armed_at', String(Date.now()));
    this.store.setMeta('alarm_armed_by', source);
    log('info', 'coordinator', 'probe_loop.armed', { source, epoch: this.store.epoch });
    return at;
  }
}
