import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { StrataError } from '../errors.js';
import type { Tokenizer } from '../embed/text-model.js';

/**
 * A tokenizer from a JavaScript module: its default export, or an export named `tokenize`, must be a
 * function from one text to token ids (or to `{ [modelInputName]: ids }`), see EmbedOptions.tokenizer.
 */
export async function loadTokenizer(file: string): Promise<Tokenizer> {
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
  } catch (cause) {
    throw new StrataError('NOT_FOUND', `cannot load the tokenizer module ${file}: ${(cause as Error).message}`, {
      file,
      cause,
      hint: 'pass a .js/.mjs module whose default export is (text) => tokenIds',
    });
  }
  const fn = typeof mod.default === 'function' ? mod.default : mod.tokenize;
  if (typeof fn !== 'function') {
    throw new StrataError(
      'INVALID_ARGUMENT',
      `the tokenizer module ${file} exports no function (default or tokenize)`,
      {
        file,
        field: 'tokenizer',
        hint: 'export default (text) => tokenIds',
      },
    );
  }
  return fn as Tokenizer;
}
