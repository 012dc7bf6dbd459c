/**
 * The query embedder `ds.search` uses for image and text queries (see
 * src/dataset/search/query-embedder.ts): embeds with the column's lineage model. Loading this
 * module installs it; src/embed/index.ts (so the package entry) loads it.
 */
import { installQueryEmbedder, type QueryEmbedder } from '../dataset/search/query-embedder.js';
import { StrataError } from '../errors.js';
import { embedQueryImage, embedQueryText, type QueryModelOptions } from './job-query.js';
import { readLineage } from './lineage.js';

/** Embeds an image or text query as `column` was computed; INVALID_ARGUMENT when it has no embedding lineage. */
export const embedSearchQuery: QueryEmbedder = async (input, column, options) => {
  const lineage = readLineage(column.meta);
  if (!lineage) {
    throw new StrataError('INVALID_ARGUMENT', `column ${column.name} has no embedding lineage to embed a query with`, {
      column: column.name,
      field: 'query',
      hint: 'pass { vector }, or search a column written by embed()',
    });
  }
  // the dataset layer types `model` loosely (it cannot name onnxruntime's session); loadModel checks it
  const o = options as QueryModelOptions;
  return 'text' in input
    ? embedQueryText(input.text, lineage, column.name, o)
    : embedQueryImage(input.image, lineage, column.name, o);
};

installQueryEmbedder(embedSearchQuery);
