/**
 * Tethering for local clusters: when GTE_PARENT_PID names a process, this node exits as soon as
 * that process is gone, so `kill -9` of the cluster launcher leaves no search node behind.
 * Production deployments (systemd, Docker) do not set it. The one parent watch of the project:
 * the local edge host uses it too, and scripts/cluster/tether.ts wraps foreign commands
 * (redis-server, nginx) in it.
 */
export function tetherToParent(parentPid: number, onParentGone: () => void, intervalMs = 500): void {
  const timer = setInterval(() => {
    try {
      process.kill(parentPid, 0);
    } catch {
      clearInterval(timer);
      onParentGone();
    }
  }, intervalMs);
  timer.unref();
}
