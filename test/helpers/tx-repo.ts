/** The YAML of a one-view repo over a CSV of transactions (`tx.csv`), for the monitoring and statistics tests. */

export interface TxRepoYamlOptions {
  /** `project:` line. Default: none (the repo's strata.yaml names it). */
  readonly project?: string;
  /** The plain view's name. */
  readonly view: string;
  readonly features: readonly string[];
  /** The source's `id_field`. Default: none. */
  readonly idField?: string;
  /** Indented `monitoring:` block of the view (4 spaces), or ''. */
  readonly monitoring?: string;
}

/** Entity `user` (`user_id`), CSV source `tx` (`tx.csv`), one plain view with the features and monitoring given. */
export function txRepoYaml(o: TxRepoYamlOptions): string {
  return `${o.project === undefined ? '' : `project: ${o.project}\n`}entities:
  - name: user
    join_keys: [user_id]
sources:
  - name: tx
    kind: csv
    path: tx.csv
${o.idField === undefined ? '' : `    id_field: ${o.idField}\n`}feature_views:
  - name: ${o.view}
    entities: [user]
    source: tx
    features: [${o.features.join(', ')}]
${o.monitoring ?? ''}
`;
}
