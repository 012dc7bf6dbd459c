/**
 * danfojs-node is an optional peer dependency: Strata's own install never pulls it (nor the
 * TensorFlow.js it depends on). `toDanfo()` loads it here, on first use; when it cannot be loaded the
 * error says exactly what to install, with the `overrides` Strata itself installs it with.
 */
import { createRequire } from 'node:module';
import type * as DanfoNode from 'danfojs-node';
import { StrataError } from '../errors.js';

type Danfo = typeof DanfoNode;

/** The package and overrides to install, from Strata's package.json (the same in src/ and dist/). */
function installHint(): string {
  let range = '';
  let overrides: Record<string, string> = {};
  try {
    const pkg = createRequire(import.meta.url)('../../package.json') as {
      peerDependencies?: Record<string, string>;
      overrides?: Record<string, string>;
    };
    range = pkg.peerDependencies?.['danfojs-node'] ?? '';
    overrides = pkg.overrides ?? {};
  } catch {
    // package.json unreadable (bundled): the plain install command still applies
  }
  const spec = range ? `danfojs-node@${range}` : 'danfojs-node';
  const needed = Object.keys(overrides).length > 0;
  return needed
    ? `add "overrides": ${JSON.stringify(overrides)} to your package.json (they keep out danfo's native ` +
        `@tensorflow/tfjs-node build and its xlsx download from a URL), then run: npm install ${spec}`
    : `run: npm install ${spec}`;
}

let danfo: Promise<Danfo> | undefined;

/** danfojs-node, imported once; `UNSUPPORTED` naming what to install when it cannot be loaded. */
export function loadDanfo(): Promise<Danfo> {
  danfo ??= import('danfojs-node').catch((cause: unknown) => {
    danfo = undefined;
    const missing =
      (cause as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' ||
      (cause as { code?: string }).code === 'MODULE_NOT_FOUND';
    throw new StrataError(
      'UNSUPPORTED',
      missing
        ? 'toDanfo needs danfojs-node, an optional peer dependency of Strata that is not installed'
        : 'toDanfo needs danfojs-node, which is installed but failed to load',
      { cause, hint: installHint() },
    );
  });
  return danfo;
}
