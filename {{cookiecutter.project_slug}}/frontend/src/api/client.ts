/**
 * Error thrown for every failed API request. `status` is the HTTP status code,
 * or 0 when no response arrived (network failure, server down).
 */
export class ApiError extends Error {
  readonly status: number;
  readonly body: unknown;

  constructor(status: number, message: string, body: unknown = null) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RequestOptions<T> {
  method?: HttpMethod;
  /** Serialized as JSON; `undefined` sends no body. */
  body?: unknown;
  /** DRF token, sent as `Authorization: Token <token>`. */
  token?: string | null;
  signal?: AbortSignal;
  /**
   * Type guard for a successful response body. When it returns false the
   * request rejects with an `ApiError`. Without it the body is trusted as `T`.
   */
  validate?: (body: unknown) => body is T;
}

/**
 * Sends a request to the backend and parses the JSON response.
 *
 * Paths are relative to the page's origin: Django serves the built app, and
 * the Vite dev server proxies `/api` to Django. A 204 response resolves to
 * `undefined`. A non-2xx response or a network failure rejects with an
 * `ApiError`. An aborted request rejects with the fetch `AbortError` unchanged,
 * so callers can tell a cancellation from a failure.
 */
export async function apiRequest<T>(path: string, options: RequestOptions<T> = {}): Promise<T> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { Accept: 'application/json' };
  if (options.body !== undefined) {
    headers['Content-Type'] = 'application/json';
  }
  if (options.token) {
    headers.Authorization = `Token ${options.token}`;
  }

  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
  } catch (error) {
    if (isAbortError(error)) {
      throw error;
    }
    const reason = error instanceof Error ? error.message : String(error);
    throw new ApiError(
      0,
      `${method} ${path} failed: no response from the server (${reason}). ` +
        'Check that the backend is running.',
    );
  }

  const body = await readBody(response);

  if (!response.ok) {
    const detail = errorMessageFromBody(body);
    const message = detail ?? `${method} ${path} failed with HTTP ${response.status}.`;
    throw new ApiError(response.status, message, body);
  }

  if (options.validate && !options.validate(body)) {
    throw new ApiError(
      response.status,
      `${method} ${path} returned an unexpected response body.`,
      body,
    );
  }
  return body as T;
}

// Checks the name only, because an abort error is a DOMException and that class
// need not extend the global Error (jsdom's DOMException does not).
function isAbortError(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    'name' in error &&
    error.name === 'AbortError'
  );
}

/** Returns the parsed JSON body, the raw text for other content types, or undefined when empty. */
async function readBody(response: Response): Promise<unknown> {
  if (response.status === 204) {
    return undefined;
  }

  const text = await response.text();
  if (text === '') {
    return undefined;
  }

  const contentType = response.headers.get('Content-Type') ?? '';
  if (!contentType.includes('json')) {
    return text;
  }

  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new ApiError(
      response.status,
      `The server sent invalid JSON (HTTP ${response.status}).`,
      text,
    );
  }
}

/**
 * Extracts a readable message from a DRF error body: `{"detail": "..."}`,
 * `{"non_field_errors": [...]}` or field errors such as `{"username": [...]}`.
 * Returns null when the body has none of these shapes.
 */
export function errorMessageFromBody(body: unknown): string | null {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return null;
  }

  const record = body as Record<string, unknown>;
  if (typeof record.detail === 'string') {
    return record.detail;
  }

  const nonFieldErrors = joinMessages(record.non_field_errors);
  if (nonFieldErrors !== null) {
    return nonFieldErrors;
  }

  const fieldMessages: string[] = [];
  for (const [field, value] of Object.entries(record)) {
    const joined = joinMessages(value);
    if (joined !== null) {
      fieldMessages.push(`${field}: ${joined}`);
    }
  }
  return fieldMessages.length > 0 ? fieldMessages.join(' ') : null;
}

function joinMessages(value: unknown): string | null {
  if (typeof value === 'string') {
    return value;
  }
  if (!Array.isArray(value)) {
    return null;
  }

  const messages = value.filter((item): item is string => typeof item === 'string');
  return messages.length > 0 ? messages.join(' ') : null;
}
