/**
 * An inference worker (job-infer.ts starts it): one ONNX Runtime session, running one batch at a time
 * (a run's copy into `local` must not overwrite a run still in the session).
 */
import * as ort from 'onnxruntime-node';
import { StrataError } from '../errors.js';
import { serveWorker, Transfer } from '../workers/serve.js';
import { formatDims } from './model.js';

export interface InferInit {
  /** The model; moved to the worker. */
  readonly bytes: Uint8Array;
  readonly sessionOptions: ort.InferenceSession.SessionOptions;
  /** Input slots shared with the main thread (InputSlots). */
  readonly slots: readonly SharedArrayBuffer[];
  readonly inputName: string;
  readonly outputName: string;
  /** For messages. */
  readonly uri: string;
}

/** A batch: on an input slot (by index), or its own floats (moved to the worker). */
export type InferInput =
  | { readonly slot: number; readonly dims: readonly number[] }
  | { readonly data: Float32Array; readonly dims: readonly number[] };

export interface InferMethods {
  init(init: InferInit): void;
  /** The output tensor's floats and dims. */
  run(input: InferInput): { readonly data: Float32Array; readonly dims: readonly number[] };
}

let session: ort.InferenceSession | undefined;
let model: InferInit | undefined;
let local: Float32Array | undefined;

serveWorker<InferMethods>(
  {
    async init(init) {
      try {
        session = await ort.InferenceSession.create(init.bytes, init.sessionOptions);
      } catch (err) {
        throw new StrataError(
          'CORRUPT',
          `ONNX Runtime cannot load model ${init.uri} in the inference worker: ${(err as Error).message}`,
          { uri: init.uri },
        );
      }
      model = { ...init, bytes: new Uint8Array(0) };
    },
    async run(input) {
      if (!session || !model) throw new StrataError('INVALID_ARGUMENT', 'the inference worker has no model', {});
      let data: Float32Array;
      if ('slot' in input) {
        // ONNX Runtime takes no SharedArrayBuffer views: copy the slot into this worker's own buffer
        const floats = input.dims.reduce((a, b) => a * b, 1);
        if (local?.length !== floats) local = new Float32Array(floats);
        local.set(new Float32Array(model.slots[input.slot], 0, floats));
        data = local;
      } else {
        data = input.data;
      }
      let y: ort.Tensor;
      try {
        const x = new ort.Tensor('float32', data, input.dims);
        y = (await session.run({ [model.inputName]: x }, [model.outputName]))[model.outputName];
      } catch (err) {
        throw new StrataError(
          'INVALID_ARGUMENT',
          `model ${model.uri} failed on input '${model.inputName}' ${formatDims(input.dims)}: ${(err as Error).message}`,
          { uri: model.uri, hint: 'check the preprocess size, layout and channels against the model input' },
        );
      }
      const out = y.data as Float32Array;
      return new Transfer({ data: out, dims: y.dims }, [out.buffer as ArrayBuffer]);
    },
  },
  { onClose: () => session?.release() },
);
