import { currentSession, signOut } from './auth';

export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Fired when the API refuses the token (expired, revoked key): the app shows the sign-in again. */
export const SIGNED_OUT_EVENT = 'tripline:signed-out';

export function authHeader(): Record<string, string> {
  const session = currentSession();
  return session ? { authorization: `Bearer ${session.accessToken}` } : {};
}

/** GET (or another method) on the API with the session's bearer token; the API's error message on failure. */
export async function api<T>(path: string, init: RequestInit = {}): Promise<T> {
  const response = await fetch(path, { ...init, headers: { accept: 'application/json', ...authHeader(), ...(init.headers as Record<string, string> | undefined) } });
  if (response.status === 401) {
    signOut();
    window.dispatchEvent(new Event(SIGNED_OUT_EVENT));
  }
  if (!response.ok) {
    const body = (await response.json().catch(() => null)) as { message?: string } | null;
    throw new ApiError(response.status, body?.message ?? `HTTP ${response.status}`);
  }
  return (await response.json()) as T;
}

/** A query string from the given parameters, leaving out empty ones. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(name, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}
