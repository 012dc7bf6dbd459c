/** Typed DOM helpers for the viewer page (index.html). */

/** The element with this id, checked to be of `type`; throws when the page lacks it. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const found = document.getElementById(id);
  if (!(found instanceof type)) throw new Error(`viewer page: #${id} is missing or not a ${type.name}`);
  return found;
}

/** A new element with an optional class and text. */
export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  cls?: string,
  text?: string,
): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

export const SVGNS = 'http://www.w3.org/2000/svg';

/** A message for the status line from anything thrown. */
export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
