// Portico additions to this client: the stage's URL, retries of 429 and 503 answers, the API key.
//
// client.gen.ts builds the client from createClientConfig() below (openapi-ts's runtimeConfigPath), so
// every call goes through retryingFetch: a 429 (throttled, quota exceeded) or 503 answer is sent again up
// to `maxRetries` times, after the seconds its Retry-After header gives, or else after an exponential
// backoff with jitter. A Retry-After longer than `maxRetryAfterMs` (a quota that resets tonight) is
// returned at once, as is the last answer when the retries are used up. The gateway refuses throttled
// requests before they reach the API, so retrying them is safe for every method.
// This file imports only types, so it can be imported on its own; configure() is in configure.ts.

import type { ClientOptions, Config } from './client/index.js';
import type { ClientOptions as ApiClientOptions } from './types.gen.js';

export function defaultBaseUrl(): string {
  return '__BASE_URL__';
}

export interface RetryOptions {
  /** Retries after the first try (default 3). */
  maxRetries?: number;
  /** Wait before the first retry when there is no Retry-After, doubled each time (default 500 ms). */
  baseDelayMs?: number;
  /** Longest backoff without Retry-After (default 20 s). */
  maxDelayMs?: number;
  /** A longer Retry-After is not waited for: the answer is returned (default 60 s). */
  maxRetryAfterMs?: number;
  /** Statuses that are retried (default 429 and 503). */
  statuses?: number[];
}

/** Read a Retry-After header (delay-seconds or an HTTP date) as milliseconds; undefined when absent. */
export function parseRetryAfter(value: string | null): number | undefined {
  if (!value) {
    return undefined;
  }
  const text = value.trim();
  if (/^\d+$/.test(text)) {
    return Number(text) * 1000;
  }
  const when = Date.parse(text);
  return Number.isNaN(when) ? undefined : Math.max(0, when - Date.now());
}

/** Return how long to wait before sending again, or undefined when the answer should be returned. */
export function retryDelay(response: Response, retriesDone: number, options: RetryOptions = {}): number | undefined {
  const statuses = options.statuses ?? [429, 503];
  if (!statuses.includes(response.status) || retriesDone >= (options.maxRetries ?? 3)) {
    return undefined;
  }
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'));
  if (retryAfter !== undefined) {
    return retryAfter <= (options.maxRetryAfterMs ?? 60_000) ? retryAfter : undefined;
  }
  const ceiling = Math.min(options.maxDelayMs ?? 20_000, (options.baseDelayMs ?? 500) * 2 ** retriesDone);
  return ceiling / 2 + Math.random() * (ceiling / 2);
}

function sleep(ms: number, signal: AbortSignal | null): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Wrap fetch so that 429 and 503 answers are retried as RetryOptions say. */
export function retryingFetch(options: RetryOptions = {}, inner?: typeof fetch): typeof fetch {
  const retrying = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const send = inner ?? globalThis.fetch;
    // Each try sends a clone, so a request body can be sent again.
    const original = input instanceof Request && init === undefined ? input : new Request(input, init);
    for (let retries = 0; ; retries++) {
      const response = await send(original.clone());
      const delay = retryDelay(response, retries, options);
      if (delay === undefined) {
        return response;
      }
      await response.body?.cancel();
      await sleep(delay, original.signal);
    }
  };
  return retrying as typeof fetch;
}

/** The client's initial configuration (openapi-ts calls this when client.gen.ts is loaded). */
export function createClientConfig<T extends ClientOptions = ApiClientOptions>(
  override?: Config<ClientOptions & T>,
): Config<Required<ClientOptions> & T> {
  return {
    ...override,
    baseUrl: override?.baseUrl ?? defaultBaseUrl(),
    fetch: retryingFetch(),
  } as Config<Required<ClientOptions> & T>;
}
