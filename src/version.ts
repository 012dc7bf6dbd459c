/** The Strata version written into manifests and lineage. Kept in sync with package.json by a test. */
export const STRATA_VERSION = '0.1.0';
