/**
 * Lookup tables over an `OnlineRepo` (views and services by name, features by ref), built once per
 * definitions object and cached, plus feature-ref resolution with the errors a caller can act on.
 */
import { StrataError } from '../errors.js';
import type { NamedCollection, OnlineFeatureDef, OnlineRepo, OnlineView, ServiceRefs } from './types.js';

export interface ViewIndex {
  readonly view: OnlineView;
  readonly features: ReadonlyMap<string, OnlineFeatureDef>;
}

export interface RepoIndex {
  readonly views: ReadonlyMap<string, ViewIndex>;
  readonly services: ReadonlyMap<string, readonly string[]>;
}

/** A resolved `view:feature` ref. */
export interface ResolvedFeature {
  readonly ref: string;
  readonly view: OnlineView;
  readonly feature: OnlineFeatureDef;
}

const cache = new WeakMap<object, { views: unknown; services: unknown; sizes: string; index: RepoIndex }>();

function entries<T>(c: NamedCollection<T> | undefined, nameOf: (t: T) => string | undefined): [string, T][] {
  if (!c) return [];
  if (Array.isArray(c)) return (c as readonly T[]).map((t) => [nameOf(t) ?? '', t]);
  if (c instanceof Map) return [...(c as ReadonlyMap<string, T>).entries()];
  return Object.entries(c as Record<string, T>);
}

function sizeOf(c: unknown): number {
  if (!c) return 0;
  if (Array.isArray(c)) return c.length;
  if (c instanceof Map) return c.size;
  return Object.keys(c).length;
}

/** Indexes the repo's views and services (cached until the collections change). */
export function indexRepo(repo: OnlineRepo): RepoIndex {
  const sizes = `${sizeOf(repo.views)}/${sizeOf(repo.services)}`;
  const hit = cache.get(repo);
  if (hit && hit.views === repo.views && hit.services === repo.services && hit.sizes === sizes) return hit.index;
  const views = new Map<string, ViewIndex>();
  for (const [name, view] of entries(repo.views, (v) => v.name)) {
    views.set(view.name ?? name, { view, features: new Map(view.features.map((f) => [f.name, f])) });
  }
  const services = new Map<string, readonly string[]>();
  for (const [name, svc] of entries<ServiceRefs>(repo.services, (s) =>
    Array.isArray(s) ? undefined : (s as { name?: string }).name,
  )) {
    services.set(
      name,
      Array.isArray(svc) ? (svc as readonly string[]) : (svc as { features: readonly string[] }).features,
    );
  }
  const index = { views, services };
  cache.set(repo, { views: repo.views, services: repo.services, sizes, index });
  return index;
}

/** The view named `name`, or NOT_FOUND naming it. */
export function viewOf(index: RepoIndex, name: string): OnlineView {
  const v = index.views.get(name);
  if (!v) {
    throw new StrataError('NOT_FOUND', `feature view ${name} does not exist`, {
      key: name,
      hint: `known views: ${[...index.views.keys()].join(', ') || '(none)'}`,
    });
  }
  return v.view;
}

/** Resolves `features` or a `featureService` to view features; NOT_FOUND names the unknown ref. */
export function resolveFeatures(
  index: RepoIndex,
  request: { readonly features?: readonly string[]; readonly featureService?: string },
): ResolvedFeature[] {
  let refs: readonly string[];
  if (request.features !== undefined) {
    refs = request.features;
  } else if (request.featureService !== undefined) {
    const svc = index.services.get(request.featureService);
    if (!svc) {
      throw new StrataError('NOT_FOUND', `feature service ${request.featureService} does not exist`, {
        key: request.featureService,
        field: 'feature_service',
        hint: `known services: ${[...index.services.keys()].join(', ') || '(none)'}`,
      });
    }
    refs = svc;
  } else {
    throw new StrataError('INVALID_ARGUMENT', 'request names no features', {
      field: 'features',
      hint: 'pass features (["view:feature", …]) or a feature service',
    });
  }
  if (refs.length === 0) {
    throw new StrataError('INVALID_ARGUMENT', 'request names no features', {
      field: 'features',
      hint: 'pass at least one "view:feature"',
    });
  }
  const out: ResolvedFeature[] = [];
  for (const ref of refs) {
    // A bare view name (as feature services allow) means all of its features.
    const whole = !ref.includes(':') ? index.views.get(ref) : undefined;
    if (whole) for (const f of whole.view.features) out.push({ ref: `${ref}:${f.name}`, view: whole.view, feature: f });
    else out.push(resolveRef(index, ref));
  }
  return out;
}

export function resolveRef(index: RepoIndex, ref: string): ResolvedFeature {
  const colon = ref.indexOf(':');
  if (colon <= 0 || colon === ref.length - 1) {
    throw new StrataError('INVALID_ARGUMENT', `feature ref ${JSON.stringify(ref)} is not of the form view:feature`, {
      field: 'features',
      key: ref,
      hint: 'write refs as "<view>:<feature>"',
    });
  }
  const viewName = ref.slice(0, colon);
  const featureName = ref.slice(colon + 1);
  const v = index.views.get(viewName);
  if (!v) {
    throw new StrataError('NOT_FOUND', `feature ${ref}: view ${viewName} does not exist`, {
      key: ref,
      hint: `known views: ${[...index.views.keys()].join(', ') || '(none)'}`,
    });
  }
  const feature = v.features.get(featureName);
  if (!feature) {
    throw new StrataError('NOT_FOUND', `feature ${ref} does not exist in view ${viewName}`, {
      key: ref,
      hint: `features of ${viewName}: ${[...v.features.keys()].join(', ')}`,
    });
  }
  return { ref, view: v.view, feature };
}
