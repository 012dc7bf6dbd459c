/** Validation of entities and sources. */
import { isAbsolute, resolve } from 'node:path';
import { isStrataError } from '../../errors.js';
import { categoryOf } from './dtypes.js';
import { parseDuration } from './duration.js';
import { checkFields, checkName, didYouMean, isList, type Issues } from './issues.js';
import { registeredKinds } from '../sources/registry.js';
import {
  FILE_SOURCE_KINDS,
  SCALAR_DTYPES,
  SOURCE_KINDS,
  STREAM_TRANSPORTS,
  type StreamConfig,
  type TableDtype,
  type Entity,
  type EntityDef,
  type Source,
  type SourceDef,
} from './types.js';

const ENTITY_FIELDS = ['name', 'joinKeys', 'valueType', 'description', 'tags'];
const SOURCE_FIELDS = [
  'name',
  'kind',
  'path',
  'timestampField',
  'createdTimestampField',
  'idField',
  'allowedLateness',
  'schema',
  'batchSource',
  'transport',
  'stream',
  'partitions',
  'keyField',
  'table',
  'options',
  'description',
];

export function validateEntities(issues: Issues, defs: readonly EntityDef[]): Map<string, Entity> {
  const out = new Map<string, Entity>();
  for (const def of defs) {
    const obj = `entity ${def?.name ?? '?'}`;
    if (!def || typeof def !== 'object') continue;
    checkFields(issues, def, obj, ENTITY_FIELDS);
    const name = checkName(issues, def, obj, def.name);
    if (!name) continue;
    if (out.has(name)) {
      issues.add(def, obj, 'name', `duplicate entity name ${name}`, 'give each entity a unique name');
      continue;
    }
    const joinKeys = def.joinKeys ?? [name];
    if (!isList(joinKeys) || joinKeys.length === 0 || joinKeys.some((k) => typeof k !== 'string' || !k)) {
      issues.add(
        def,
        obj,
        'joinKeys',
        'joinKeys must be a non-empty list of column names',
        `e.g. joinKeys: [${name}_id]`,
      );
      continue;
    }
    if (def.valueType !== undefined && !(SCALAR_DTYPES as readonly string[]).includes(def.valueType)) {
      issues.add(
        def,
        obj,
        'valueType',
        `unknown value type ${def.valueType}`,
        `${didYouMean(String(def.valueType), SCALAR_DTYPES)}use one of ${SCALAR_DTYPES.join(', ')}`,
      );
    }
    out.set(name, {
      name,
      joinKeys: [...joinKeys],
      ...(def.valueType ? { valueType: def.valueType } : {}),
      ...(def.description ? { description: def.description } : {}),
    });
  }
  return out;
}

export type ColumnReader = (source: Source) => Promise<Record<string, TableDtype> | undefined>;

export async function validateSources(
  issues: Issues,
  defs: readonly SourceDef[],
  dir: string,
  readColumns: ColumnReader,
): Promise<Map<string, Source>> {
  const out = new Map<string, Source>();
  const kinds = [...SOURCE_KINDS, ...registeredKinds()];
  for (const def of defs) {
    if (!def || typeof def !== 'object') continue;
    const obj = `source ${def.name ?? '?'}`;
    checkFields(issues, def, obj, SOURCE_FIELDS);
    const name = checkName(issues, def, obj, def.name);
    if (!name) continue;
    if (out.has(name)) {
      issues.add(def, obj, 'name', `duplicate source name ${name}`, 'give each source a unique name');
      continue;
    }
    if (!kinds.includes(def.kind)) {
      issues.add(
        def,
        obj,
        'kind',
        `unknown source kind ${JSON.stringify(def.kind ?? null)}`,
        `${didYouMean(String(def.kind), kinds)}use one of ${kinds.join(', ')}, or registerSourceLoader('${def.kind}', …) first`,
      );
      continue;
    }
    const isFile = (FILE_SOURCE_KINDS as readonly string[]).includes(def.kind);
    if (isFile && (typeof def.path !== 'string' || !def.path)) {
      issues.add(
        def,
        obj,
        'path',
        `a ${def.kind} source needs a path`,
        'set path to the file (relative to the repo directory)',
      );
      continue;
    }
    const lateness = def.allowedLateness === undefined ? 0 : parseDuration(def.allowedLateness);
    if (lateness === undefined || lateness < 0) {
      issues.add(
        def,
        obj,
        'allowedLateness',
        `bad duration ${JSON.stringify(def.allowedLateness)}`,
        'write a duration such as 30s, 5m, 1h',
      );
    }
    let schemaOk = true;
    if (def.schema !== undefined) {
      if (!def.schema || typeof def.schema !== 'object') schemaOk = false;
      else {
        for (const [col, dt] of Object.entries(def.schema)) {
          if (typeof dt !== 'string' || categoryOf(dt) === 'other') {
            issues.add(
              def,
              obj,
              `schema.${col}`,
              `unknown dtype ${JSON.stringify(dt)} for column ${col}`,
              `use ${SCALAR_DTYPES.join(', ')} or list<…>`,
            );
            schemaOk = false;
          }
        }
      }
    }
    const pushLike = def.kind === 'push' || def.kind === 'stream';
    if (pushLike && !def.schema) {
      issues.add(
        def,
        obj,
        'schema',
        `a ${def.kind} source needs a schema (column → dtype)`,
        'e.g. schema: { user_id: int64, amount: float64, event_timestamp: timestamp }',
      );
      continue;
    }
    if (def.kind === 'table' && !(def.table && typeof (def.table as { getChild?: unknown }).getChild === 'function')) {
      issues.add(def, obj, 'table', 'a table source needs an Arrow table', 'pass table: an apache-arrow Table');
      continue;
    }
    let stream: StreamConfig | undefined;
    if (def.kind === 'stream') {
      stream = streamConfig(issues, def, obj);
      if (!stream) continue;
    }
    const path =
      def.path && !/^[a-z][a-z0-9+.-]*:\/\//i.test(def.path) && !isAbsolute(def.path)
        ? resolve(dir, def.path)
        : def.path;
    const source: Source = {
      name,
      kind: def.kind,
      ...(path ? { path } : {}),
      timestampField: def.timestampField ?? 'event_timestamp',
      ...(def.createdTimestampField ? { createdTimestampField: def.createdTimestampField } : {}),
      ...(def.idField ? { idField: def.idField } : {}),
      allowedLatenessMs: lateness ?? 0,
      ...(def.schema && schemaOk ? { columns: { ...def.schema } } : {}),
      ...(def.batchSource ? { batchSource: def.batchSource } : {}),
      ...(stream ? { stream } : {}),
      ...(def.table ? { table: def.table } : {}),
      ...(def.options ? { options: def.options } : {}),
      ...(def.description ? { description: def.description } : {}),
    };
    let columns = source.columns;
    if (!pushLike) {
      try {
        const read = await readColumns(source);
        if (read) columns = { ...read, ...(source.columns ?? {}) };
      } catch (err) {
        // no loader registered yet (e.g. dataset sources before the dataset layer plugs in): columns unknown
        if (!isStrataError(err, 'UNSUPPORTED')) {
          const msg = isStrataError(err) ? err.message : String(err);
          const hint =
            isStrataError(err) && err.details.hint ? String(err.details.hint) : 'check the path and the file format';
          issues.add(def, obj, 'path', `cannot read the source: ${msg}`, hint);
          continue;
        }
      }
    }
    if (columns) {
      for (const field of ['timestampField', 'createdTimestampField', 'idField'] as const) {
        const col = source[field];
        if (col && !(col in columns)) {
          issues.add(
            def,
            obj,
            field,
            `${field === 'timestampField' ? 'timestamp' : field === 'idField' ? 'event id' : 'created timestamp'} column ${col} is not in the source`,
            `${didYouMean(col, Object.keys(columns))}columns: ${Object.keys(columns).join(', ')}`,
          );
        } else if (
          col &&
          field !== 'idField' &&
          !['timestamp', 'int', 'float', 'string'].includes(categoryOf(columns[col]))
        ) {
          issues.add(
            def,
            obj,
            field,
            `column ${col} has dtype ${columns[col]}, not a time`,
            'use a timestamp column (or epoch milliseconds)',
          );
        }
      }
    }
    out.set(name, { ...source, ...(columns ? { columns } : {}) });
  }
  for (const def of defs) {
    const s = def?.name ? out.get(def.name) : undefined;
    if (!s?.batchSource) continue;
    const b = out.get(s.batchSource);
    if (!b)
      issues.add(
        def,
        `source ${s.name}`,
        'batchSource',
        `unknown source ${s.batchSource}`,
        `${didYouMean(s.batchSource, [...out.keys()])}name a defined source`,
      );
    else if (b.kind === 'push' || b.kind === 'stream')
      issues.add(
        def,
        `source ${s.name}`,
        'batchSource',
        `batch source ${b.name} is itself a ${b.kind} source`,
        'point batchSource at a file or table source',
      );
  }
  return out;
}

/** The transport settings of a `kind: stream` source, or undefined (with issues added) when they are wrong. */
function streamConfig(issues: Issues, def: SourceDef, obj: string): StreamConfig | undefined {
  let ok = true;
  if (!(STREAM_TRANSPORTS as readonly string[]).includes(def.transport as string)) {
    issues.add(
      def,
      obj,
      'transport',
      `unknown stream transport ${JSON.stringify(def.transport ?? null)}`,
      `${didYouMean(String(def.transport), STREAM_TRANSPORTS)}use one of ${STREAM_TRANSPORTS.join(', ')}`,
    );
    ok = false;
  }
  if (typeof def.stream !== 'string' || !/^[A-Za-z0-9_-]+$/.test(def.stream)) {
    issues.add(
      def,
      obj,
      'stream',
      `stream name ${JSON.stringify(def.stream ?? null)} is not a name`,
      'use letters, digits, _ and - (it names the Redis keys / JetStream stream)',
    );
    ok = false;
  }
  const partitions = def.partitions ?? 8;
  if (!Number.isInteger(partitions) || partitions < 1 || partitions > 4096) {
    issues.add(def, obj, 'partitions', `partitions must be an integer from 1 to 4096, got ${partitions}`, 'e.g. 8');
    ok = false;
  }
  const schema = def.schema ?? {};
  if (typeof def.keyField !== 'string' || !(def.keyField in schema)) {
    issues.add(
      def,
      obj,
      'keyField',
      `key field ${JSON.stringify(def.keyField ?? null)} is not a column of the schema`,
      `${didYouMean(String(def.keyField), Object.keys(schema))}name the entity key column events are partitioned by`,
    );
    ok = false;
  }
  if (!def.idField) {
    issues.add(
      def,
      obj,
      'idField',
      'a stream source needs an idField (event id)',
      'replays after a crash count each event once by its id; add an id column to the schema',
    );
    ok = false;
  }
  if (!ok) return undefined;
  return { transport: def.transport!, name: def.stream!, partitions, keyField: def.keyField! };
}
