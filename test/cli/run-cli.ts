/** Runs the CLI as a child process (`node --import tsx src/cli/main.ts ...`), as a user would. */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type ChildResult, childEnv, collect } from '../helpers/child-process.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
/** tsx by absolute URL, so the child can run from any working directory. */
export const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).href;

export type CliResult = ChildResult;

export interface CliRunOptions {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly timeoutMs?: number;
}

export function startStrata(args: readonly string[], options: CliRunOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--import', TSX, MAIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: childEnv({ NO_COLOR: '1', ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

export function strata(args: readonly string[], options: CliRunOptions = {}): Promise<CliResult> {
  return collect(startStrata(args, options), options.timeoutMs ?? 60_000);
}

/** Starts a long-running command (serve, view), waits for its `http://…` line; `stop()` sends SIGTERM and returns the exit code. */
export async function startServer(
  args: readonly string[],
  options: CliRunOptions = {},
): Promise<{ url: string; stop(): Promise<CliResult> }> {
  const child = startStrata(args, options);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const closed = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => {
        child.kill('SIGKILL'); // never leave a server the test cannot reach running
        reject(new Error(`no URL printed by strata ${args.join(' ')}\n${stdout}\n${stderr}`));
      },
      options.timeoutMs ?? 90_000, // a cold start from source (tsx) on a loaded 2-core machine can take 30 s
    );
    const check = () => {
      const m = /http:\/\/[\d.]+:\d+/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    child.stdout!.on('data', check);
    void closed.then((code) => {
      clearTimeout(timer);
      reject(new Error(`strata ${args.join(' ')} exited with ${code} before printing a URL\n${stdout}\n${stderr}`));
    });
  });
  return {
    url,
    async stop() {
      child.kill('SIGTERM');
      const code = await closed;
      return { code, stdout, stderr };
    },
  };
}

/** The CLI's error line: `strata: CODE: message (hint)`, exactly one line. */
export const ERROR_LINE = /^strata: ([A-Z_]+): .+$/;

export function errorCode(stderr: string): string | undefined {
  const lines = stderr
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('strata: '));
  if (lines.length !== 1) return undefined;
  return ERROR_LINE.exec(lines[0])?.[1];
}
