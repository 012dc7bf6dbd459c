/**
 * Starting and stopping a service binary for tests (redis-server, nats-server): spawn it, keep the
 * tail of its output, poll a readiness probe, SIGKILL it when it does not come up.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Spawns `bin args` and resolves once `probe()` answers true (polled every 25 ms, 5 s at most);
 * throws with the output's tail when the process exits first or never answers (it is killed).
 * `onExit(proc)` runs when the process ends, whenever that is.
 */
export async function startService(
  bin: string,
  args: readonly string[],
  probe: () => Promise<boolean>,
  onExit: (proc: ChildProcess) => void = () => {},
): Promise<ChildProcess> {
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  const keep = (d: Buffer) => (log = (log + d.toString()).slice(-4000));
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  let exited = false;
  proc.once('exit', () => {
    exited = true;
    onExit(proc);
  });
  for (let i = 0; i < 200; i++) {
    if (exited) break;
    if (await probe()) return proc;
    await new Promise((r) => setTimeout(r, 25));
  }
  proc.kill('SIGKILL');
  throw new Error(`${bin} ${args.join(' ')} did not start:\n${log}`);
}

/** SIGKILLs the process (an abrupt outage) and resolves once it has exited. */
export async function killService(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
  await new Promise<void>((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}
