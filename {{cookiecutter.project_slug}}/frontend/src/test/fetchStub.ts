import { vi, type Mock } from 'vitest';

/** One call to the stubbed fetch, with the parts the tests assert on. */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: Headers;
  body: unknown;
}

type RouteHandler = (request: RecordedRequest) => Response | Promise<Response>;

export function jsonResponse(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  });
}

export function emptyResponse(status = 204): Response {
  return new Response(null, { status });
}

/**
 * Replaces the global fetch with a mock that dispatches on "METHOD path", for
 * example `'GET /api/auth/me/'`. A request with no matching route fails the
 * test with a message naming it. The mock and `requests` record every call.
 */
export function stubFetch(routes: Record<string, RouteHandler>): {
  fetchMock: Mock<typeof fetch>;
  requests: RecordedRequest[];
} {
  const requests: RecordedRequest[] = [];

  const fetchMock = vi.fn<typeof fetch>((input, init) => {
    const request = recordRequest(input, init);
    requests.push(request);

    const handler = routes[`${request.method} ${request.url}`];
    if (handler === undefined) {
      return Promise.reject(
        new Error(`Unexpected request in test: ${request.method} ${request.url}`),
      );
    }
    return Promise.resolve(handler(request));
  });

  vi.stubGlobal('fetch', fetchMock);
  return { fetchMock, requests };
}

function recordRequest(input: RequestInfo | URL, init: RequestInit | undefined): RecordedRequest {
  if (typeof input !== 'string') {
    throw new Error('The fetch stub supports only string URLs, as apiRequest passes.');
  }

  const rawBody = init?.body;
  if (rawBody !== undefined && rawBody !== null && typeof rawBody !== 'string') {
    throw new Error('The fetch stub supports only string bodies, as apiRequest sends.');
  }

  return {
    method: init?.method ?? 'GET',
    url: input,
    headers: new Headers(init?.headers),
    body: typeof rawBody === 'string' ? (JSON.parse(rawBody) as unknown) : undefined,
  };
}
