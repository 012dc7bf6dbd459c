export * from '../../stats/hll.js';
