/** The viewer's JSON API from the page: GET a path, answer the parsed body or throw with the server's code. */
import type { ErrorResponse } from '../wire.js';

export async function api<T>(path: string): Promise<T> {
  const res = await fetch(path);
  const body = (await res.json()) as T | Partial<ErrorResponse>;
  if (!res.ok) {
    const error = (body as Partial<ErrorResponse>).error;
    throw new Error((error && `${error.code}: ${error.message}`) || res.statusText);
  }
  return body as T;
}
