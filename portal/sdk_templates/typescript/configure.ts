// Portico's one-call setup of the shared client: the API key, another base URL, the retry policy.

import { client } from './client.gen.js';
import { type RetryOptions, retryingFetch } from './portico.js';

export interface PorticoOptions {
  /** Sent in the x-api-key header of every operation that needs a key. */
  apiKey?: string;
  /** Another base URL than the stage's invoke URL. */
  baseUrl?: string;
  /** Retry settings, or false for none. */
  retry?: RetryOptions | false;
}

export function configure(options: PorticoOptions): void {
  const apiKey = options.apiKey;
  client.setConfig({
    ...(options.baseUrl !== undefined ? { baseUrl: options.baseUrl } : {}),
    ...(apiKey !== undefined ? { auth: () => apiKey } : {}),
    ...(options.retry !== undefined
      ? { fetch: options.retry === false ? globalThis.fetch : retryingFetch(options.retry) }
      : {}),
  });
}
