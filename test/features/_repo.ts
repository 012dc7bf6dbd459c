/** Writes small YAML feature repositories (with a CSV source) into temp directories. */
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

const dirs: string[] = [];

export const TRIPS_CSV = [
  'driver_id,event_timestamp,fare,city,created',
  '1,2024-01-01T00:00:00Z,10.5,paris,2024-01-01T00:00:00Z',
  '1,2024-01-01T01:00:00Z,20,berlin,2024-01-01T01:00:00Z',
  '2,2024-01-01T01:00:00Z,7.25,paris,2024-01-01T01:00:00Z',
  '1,2024-01-01T01:30:00Z,,paris,2024-01-01T01:30:00Z',
  '2,2024-01-01T03:00:00Z,3,rome,2024-01-01T03:00:00Z',
  '3,2024-01-01T02:00:00Z,100,rome,2024-01-01T02:00:00Z',
  '1,2024-01-01T01:00:00Z,21,berlin,2024-01-01T01:05:00Z',
].join('\n');

export const STRATA_YAML = 'project: rides\n';

export const FEATURES_YAML = `entities:
  - name: driver
    join_keys: [driver_id]
    value_type: int64

sources:
  - name: trips
    kind: csv
    path: data/trips.csv
    timestamp_field: event_timestamp
    created_timestamp_field: created

feature_views:
  - name: driver_latest
    entities: [driver]
    source: trips
    ttl: 2h
    features: [fare, city]
  - name: driver_aggs
    entities: [driver]
    source: trips
    tile: 30m
    aggregations:
      - { column: fare, function: sum, window: 2h }
      - { column: fare, function: mean, window: lifetime }
      - { function: count, window: 1h, where: "city = 'paris'", name: paris_trips_1h }
      - { column: city, function: last_n, window: 1d, n: 2 }
      - { column: fare, function: max, window: 2h, hop: 1h }

feature_services:
  - name: model_v1
    features: ["driver_latest:fare", driver_aggs]
`;

export async function writeRepo(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-features-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-features-'));
  dirs.push(dir);
  return dir;
}

export async function cleanup(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** 1-based line of the first line containing `needle`. */
export function lineOf(text: string, needle: string): number {
  const i = text.split('\n').findIndex((l) => l.includes(needle));
  if (i < 0) throw new Error(`needle ${needle} not in text`);
  return i + 1;
}
