import * as ort from 'onnxruntime-node';
import { StrataError } from '../errors.js';

/** ONNX Runtime execution providers onnxruntime-node knows by name (which ones load depends on its build). */
export const EXECUTION_PROVIDERS = ['cpu', 'cuda', 'tensorrt', 'dml', 'coreml', 'webgpu', 'qnn'] as const;
/** One of EXECUTION_PROVIDERS. */
export type ExecutionProviderName = (typeof EXECUTION_PROVIDERS)[number];

/** Checks a provider list: known names, at least one, no repeats. */
export function checkProviders(providers: readonly string[]): readonly ExecutionProviderName[] {
  if (providers.length === 0)
    throw new StrataError('INVALID_ARGUMENT', 'executionProviders is empty', {
      field: 'executionProviders',
      hint: "list providers in order of preference, e.g. ['cuda', 'cpu']",
    });
  for (const p of providers) {
    if (!(EXECUTION_PROVIDERS as readonly string[]).includes(p))
      throw new StrataError('INVALID_ARGUMENT', `execution provider '${p}' is not one onnxruntime-node knows`, {
        field: 'executionProviders',
        hint: `use ${EXECUTION_PROVIDERS.join(', ')}`,
      });
  }
  if (new Set(providers).size !== providers.length)
    throw new StrataError('INVALID_ARGUMENT', `executionProviders lists a provider twice: ${providers.join(', ')}`, {
      field: 'executionProviders',
    });
  return providers as readonly ExecutionProviderName[];
}

/**
 * Creates a session with `providers` in order of preference. onnxruntime-node refuses the whole list
 * when one provider cannot load (e.g. 'cuda' without a CUDA build and driver), so on failure the
 * first provider other than 'cpu' is dropped, with a warning (code STRATA_EP_UNAVAILABLE), and the
 * rest are tried. A list left with one non-cpu provider that fails: UNAVAILABLE naming it. A list of
 * only 'cpu' that fails: the model itself cannot load (`onModelError`). Returns the session and the
 * providers it runs with.
 */
export async function createSession(
  bytes: Uint8Array,
  options: ort.InferenceSession.SessionOptions,
  providers: readonly ExecutionProviderName[] | undefined,
  uri: string,
  onModelError: (err: unknown) => never,
  onWarning?: (message: string, code: string) => void,
): Promise<{ session: ort.InferenceSession; providers: readonly string[] }> {
  if (!providers) {
    try {
      return { session: await ort.InferenceSession.create(bytes, options), providers: ['cpu'] };
    } catch (err) {
      onModelError(err);
    }
  }
  let list = [...providers];
  for (;;) {
    try {
      const session = await ort.InferenceSession.create(bytes, { ...options, executionProviders: list });
      return { session, providers: list };
    } catch (err) {
      const msg = (err as Error).message;
      const drop = list.find((p) => p !== 'cpu');
      if (drop === undefined) onModelError(err);
      if (list.length === 1) {
        throw new StrataError('UNAVAILABLE', `execution provider ${drop} cannot run model ${uri} here: ${msg}`, {
          uri,
          field: 'executionProviders',
          cause: err,
          hint: `install an onnxruntime-node build with ${drop} support and its drivers, or add 'cpu' as a fallback: executionProviders: ['${drop}', 'cpu']`,
        });
      }
      list = list.filter((p) => p !== drop);
      (onWarning ?? ((m: string, code: string) => process.emitWarning(m, { code })))(
        `execution provider ${drop} is unavailable for model ${uri} (${msg}); falling back to ${list.join(', ')}`,
        'STRATA_EP_UNAVAILABLE',
      );
    }
  }
}
