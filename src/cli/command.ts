/**
 * The shape of one CLI command: its options (for `util.parseArgs`), positionals, help text with an
 * example, and `run`. Commands live one per file in `commands/`; `run.ts` dispatches.
 */
import { parseArgs } from 'node:util';
import { StrataError } from '../errors.js';
import type { ProgressBar } from './progress.js';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly description: string;
  /** Shown in help as the value name, e.g. `N` for `-n N`. */
  readonly value?: string;
  readonly multiple?: boolean;
  /** A number option: checked when the arguments are parsed, before any work (usage error, exit 2). */
  readonly number?: NumberSpec;
}

/** What a number option accepts. */
export interface NumberSpec {
  /** Whole numbers only. Default false. */
  readonly integer?: boolean;
  /** Smallest value allowed (inclusive). */
  readonly min?: number;
  /** Values must be greater than this. */
  readonly above?: number;
  /** Largest value allowed (inclusive). */
  readonly max?: number;
}

/** An integer option with a lower bound (the common case: counts, sizes, ports). */
export function integerAtLeast(min: number): NumberSpec {
  return { integer: true, min };
}

/** A TCP port (0: any free port). */
export const PORT_NUMBER: NumberSpec = { integer: true, min: 0, max: 65535 };

export interface PositionalSpec {
  readonly name: string;
  readonly description: string;
  /** Default true. */
  readonly required?: boolean;
}

/** What a command gets: parsed arguments, output streams and a cancellation signal. */
/** Where a command run in-process (`CommandContext.runCommand`) writes and what it sees. */
export interface CommandIo {
  readonly stdout?: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr?: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  /** Cancels the command (default: SIGINT/SIGTERM). */
  readonly signal?: AbortSignal;
}

export interface CommandContext {
  readonly values: Readonly<Record<string, string | boolean | string[] | undefined>>;
  readonly positionals: readonly string[];
  /** Writes a line to stdout (results). */
  out(line: string): void;
  /** Writes a line to stderr (progress, notes). */
  err(line: string): void;
  /** Fires on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
  /** A progress bar on stderr labelled `label`, counting `unit` (default 'items'). */
  progress(label: string, unit?: string): ProgressBar;
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Runs another strata command in this process (argv without `strata`); resolves to its exit code. */
  readonly runCommand: (argv: readonly string[], io: CommandIo) => Promise<number>;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly positionals: readonly PositionalSpec[];
  readonly options: Readonly<Record<string, OptionSpec>>;
  /** Full examples (each a shell line). */
  readonly examples: readonly string[];
  /** Extra help paragraphs. */
  readonly notes?: readonly string[];
  /**
   * Library option names that are spelt differently on the command line (`{ onLineageMismatch: 'on-mismatch' }`),
   * so hints raised by the library read as flags. Same-named options (`pathColumn` → `--path-column`) need no entry.
   */
  readonly hintFlags?: Readonly<Record<string, string>>;
  /** Returns the exit code (default 0). */
  run(ctx: CommandContext): Promise<number | void>;
}

/** A usage error: exit code 2. */
export class UsageError extends StrataError {
  constructor(message: string, command?: string) {
    super('INVALID_ARGUMENT', message, { hint: `run strata ${command ? `${command} ` : ''}--help` });
  }
}

export const HELP_OPTION: OptionSpec = { type: 'boolean', short: 'h', description: 'show this help' };

export function parseCommandArgs(
  cmd: Command,
  argv: readonly string[],
): { values: Record<string, string | boolean | string[] | undefined>; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {
    help: { type: 'boolean', short: 'h' },
  };
  for (const [k, o] of Object.entries(cmd.options))
    options[k] = { type: o.type, ...(o.short ? { short: o.short } : {}), ...(o.multiple ? { multiple: true } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: joinNegativeNumbers(cmd, argv), options, allowPositionals: true, strict: true });
  } catch (err) {
    const message = (err as Error).message.split('\n')[0] ?? 'bad arguments';
    const ambiguous = /^Option '(-[^' ,]+)(?:, --[^' ]+)?(?: <value>)?' argument (?:is ambiguous|missing)/.exec(
      message,
    );
    throw new UsageError(
      ambiguous
        ? `strata ${cmd.name}: ${ambiguous[1]} needs a value${message.includes('ambiguous') ? ` (to pass one that starts with a dash, write ${ambiguous[1]}=VALUE)` : ''}`
        : `strata ${cmd.name}: ${message.replace(/\. To specify.*$/, '')}`,
      cmd.name,
    );
  }
  const values = parsed.values as Record<string, string | boolean | string[] | undefined>;
  if (values.help) return { values, positionals: parsed.positionals };
  for (const [name, o] of Object.entries(cmd.options)) {
    const raw = values[name];
    if (o.number && typeof raw === 'string') checkNumber(cmd.name, name, o, raw);
  }
  const required = cmd.positionals.filter((p) => p.required !== false).length;
  if (parsed.positionals.length < required) {
    const missing = cmd.positionals
      .slice(parsed.positionals.length)
      .filter((p) => p.required !== false)
      .map((p) => `<${p.name}>`);
    throw new UsageError(`strata ${cmd.name}: missing ${missing.join(' ')}`, cmd.name);
  }
  if (parsed.positionals.length > cmd.positionals.length) {
    throw new UsageError(
      `strata ${cmd.name}: unexpected argument ${JSON.stringify(parsed.positionals[cmd.positionals.length])}`,
      cmd.name,
    );
  }
  return { values, positionals: parsed.positionals };
}

/** How a user writes the option: `-n` for one-letter names, `--name` otherwise. */
export function flagOf(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

/** `-n -3` → `--n=-3`: a negative number after an option that takes a value is that value. */
function joinNegativeNumbers(cmd: Command, argv: readonly string[]): string[] {
  const byFlag = new Map<string, string>();
  for (const [name, o] of Object.entries(cmd.options)) {
    if (o.type !== 'string') continue;
    byFlag.set(`--${name}`, name);
    if (o.short) byFlag.set(`-${o.short}`, name);
  }
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = byFlag.get(argv[i]);
    const next = argv[i + 1];
    if (name !== undefined && next !== undefined && /^-(\d|\.\d)/.test(next)) {
      out.push(`--${name}=${next}`);
      i++;
    } else out.push(argv[i]);
  }
  return out;
}

function checkNumber(command: string, name: string, o: OptionSpec, raw: string): void {
  const spec = o.number!;
  const n = raw.trim() === '' ? NaN : Number(raw);
  const bounds = [
    spec.min !== undefined ? `>= ${spec.min}` : '',
    spec.above !== undefined ? `> ${spec.above}` : '',
    spec.max !== undefined ? `<= ${spec.max}` : '',
  ].filter(Boolean);
  const want = `${spec.integer ? 'a whole number' : 'a number'}${bounds.length ? ` ${bounds.join(' and ')}` : ''}`;
  if (
    !Number.isFinite(n) ||
    (spec.integer && !Number.isInteger(n)) ||
    (spec.min !== undefined && n < spec.min) ||
    (spec.above !== undefined && n <= spec.above) ||
    (spec.max !== undefined && n > spec.max)
  ) {
    throw new UsageError(`strata ${command}: ${flagOf(name)} must be ${want}, got ${JSON.stringify(raw)}`, command);
  }
}

function optionLabel(name: string, o: OptionSpec): string {
  const flag = name.length === 1 ? `-${name}` : `${o.short ? `-${o.short}, ` : '    '}--${name}`;
  return o.type === 'string' ? `${flag} ${o.value ?? name.toUpperCase()}` : flag;
}

export function commandHelp(cmd: Command): string {
  const pos = cmd.positionals.map((p) => (p.required === false ? `[${p.name}]` : `<${p.name}>`)).join(' ');
  const lines = [`strata ${cmd.name} ${pos} [options]`.replace(/\s+/g, ' '), '', cmd.summary, ''];
  if (cmd.positionals.length) {
    lines.push('Arguments:');
    const w = Math.max(...cmd.positionals.map((p) => p.name.length));
    for (const p of cmd.positionals) lines.push(`  ${p.name.padEnd(w)}  ${p.description}`);
    lines.push('');
  }
  const opts: [string, OptionSpec][] = [...Object.entries(cmd.options), ['help', HELP_OPTION]];
  lines.push('Options:');
  const labels = opts.map(([n, o]) => optionLabel(n, o));
  const w = Math.max(...labels.map((l) => l.length));
  opts.forEach(([, o], i) => lines.push(`  ${labels[i].padEnd(w)}  ${o.description}`));
  if (cmd.notes?.length) lines.push('', ...cmd.notes);
  lines.push('', cmd.examples.length > 1 ? 'Examples:' : 'Example:', ...cmd.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

// ---- typed option readers ----

export function str(ctx: CommandContext, name: string): string | undefined {
  const v = ctx.values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requireStr(ctx: CommandContext, name: string, command: string): string {
  const v = str(ctx, name);
  if (v === undefined || v === '') throw new UsageError(`strata ${command}: --${name} is required`, command);
  return v;
}

export function flag(ctx: CommandContext, name: string): boolean {
  return ctx.values[name] === true;
}

export function int(ctx: CommandContext, name: string, command: string, fallback: number, min = 0): number {
  const v = str(ctx, name);
  if (v === undefined) return fallback;
  const n = v.trim() === '' ? NaN : Number(v);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(
      `strata ${command}: ${flagOf(name)} must be a whole number >= ${min}, got ${JSON.stringify(v)}`,
      command,
    );
  return n;
}
