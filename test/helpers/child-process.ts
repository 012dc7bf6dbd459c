/** Child processes in tests: run a command to completion and collect its output. */
import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';

export interface ChildResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** The test process's environment plus `extra`, without vitest's loader hooks (not for the child). */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env.NODE_OPTIONS;
  return env;
}

/** Collects a started child's output until it closes; SIGKILLs it after `timeoutMs`. */
export function collect(child: ChildProcess, timeoutMs: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs `command args` to completion (output piped, stdin closed). */
export function runChild(
  command: string,
  args: readonly string[],
  options: Omit<SpawnOptions, 'stdio'> & { readonly timeoutMs?: number } = {},
): Promise<ChildResult> {
  const { timeoutMs = 170_000, ...spawnOptions } = options;
  return collect(spawn(command, args, { ...spawnOptions, stdio: ['ignore', 'pipe', 'pipe'] }), timeoutMs);
}
