import { StrataError } from '../../errors.js';

/** Maps a file read failure to NOT_FOUND / IO. */
export function readFailure(path: string, err: unknown): never {
  const code = (err as { code?: string }).code;
  if (code === 'ENOENT') {
    throw new StrataError('NOT_FOUND', `source file ${path} does not exist`, {
      uri: path,
      cause: err,
      hint: 'check the source path (relative paths resolve against the repo directory)',
    });
  }
  throw new StrataError('IO', `cannot read ${path}: ${(err as Error).message}`, { uri: path, cause: err });
}
