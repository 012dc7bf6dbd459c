/**
 * Hints speak the CLI. The library's hints name its options as JavaScript (`pass { table: 'name.csv' }`,
 * `pass onLineageMismatch: 'new-column'`, `pass options.tokenizer`); on the command line those are
 * flags (`pass --table name.csv`). A hint is rewritten through the running command's options; one
 * that still reads as code afterwards (an option the command does not have, a function to call) is
 * replaced by a pointer to the command's `--help`.
 */
import type { Command } from './command.js';

const camel = (kebab: string): string => kebab.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());

/** Library option name → the flag, for one command. */
function flagTable(cmd: Command): Map<string, { flag: string; value: string; boolean: boolean }> {
  const table = new Map<string, { flag: string; value: string; boolean: boolean }>();
  const add = (libName: string, cliName: string) => {
    const o = cmd.options[cliName];
    if (!o) return;
    table.set(libName, {
      flag: cliName.length === 1 ? `-${cliName}` : `--${cliName}`,
      value: o.value ?? cliName.toUpperCase(),
      boolean: o.type === 'boolean',
    });
  };
  for (const name of Object.keys(cmd.options)) add(camel(name), name);
  for (const [lib, cli] of Object.entries(cmd.hintFlags ?? {})) add(lib, cli);
  return table;
}

/** One `key: value` (or shorthand `key`) as a flag, or undefined when the command has no such option. */
function pairToFlag(pair: string, flags: ReturnType<typeof flagTable>): string | undefined {
  const m = /^([A-Za-z_$][\w$]*)(?:\s*:\s*(.+))?$/.exec(pair.trim());
  if (!m) return undefined;
  const f = flags.get(m[1]);
  if (!f) return undefined;
  if (m[2] === undefined) return f.boolean ? f.flag : `${f.flag} ${f.value}`;
  const raw = m[2].trim();
  if (f.boolean) return raw === 'true' ? f.flag : undefined;
  const quoted = /^(['"`])(.*)\1$/.exec(raw);
  if (quoted) return `${f.flag} ${/\s/.test(quoted[2]) ? JSON.stringify(quoted[2]) : quoted[2]}`;
  return /^-?[\d.]+$/.test(raw) ? `${f.flag} ${raw}` : undefined;
}

/** Text that is still code: braces, arrows, calls, `options.x`, camelCase identifiers. */
const CODE = /[{}]|=>|\w\(|\boptions\.|\b[a-z]+[A-Z]\w*\b/;

/** The hint rewritten for the command line; `run strata <cmd> --help` when it cannot be. */
export function cliHint(hint: string, cmd: Command | undefined): string {
  const help = `see strata ${cmd ? `${cmd.name} ` : ''}--help`;
  if (!CODE.test(hint)) return hint;
  if (!cmd) return help;
  const flags = flagTable(cmd);
  let text = hint.replace(/\{\s*([^{}]*?)\s*\}/g, (whole, body: string) => {
    const parts = body.split(/\s*,\s*/).filter(Boolean);
    const out = parts.map((p) => pairToFlag(p, flags));
    return out.every((x) => x !== undefined) && out.length > 0 ? out.join(' ') : whole;
  });
  text = text.replace(/\boptions\.([A-Za-z_$][\w$]*)/g, (whole, name: string) => flags.get(name)?.flag ?? whole);
  text = text.replace(
    /\b([a-z][A-Za-z0-9]*)\s*:\s*('[^']*'|"[^"]*"|true|-?\d[\d.]*)/g,
    (whole, key: string, value: string) => pairToFlag(`${key}: ${value}`, flags) ?? whole,
  );
  text = text.replace(/\b[a-z][A-Za-z0-9]*\b/g, (word) =>
    /[A-Z]/.test(word) ? (flags.get(word)?.flag ?? word) : word,
  );
  return CODE.test(text) ? help : text;
}
