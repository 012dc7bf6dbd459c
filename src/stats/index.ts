export * from './column.js';
export * from './ddsketch.js';
export * from './drift.js';
export * from './embedding.js';
export * from './frequent.js';
export * from './hll.js';
export * from './moments.js';
export * from './statistics.js';
