/**
 * When replay asks again. A 5xx, or a 429 (the gateway's concurrency limit, API Gateway's throttle), says
 * "not now", not "no": the request is sent again after the answer's Retry-After (seconds), or after a delay
 * that grows with the attempt when the answer names none.
 */
export function isRetryable(status: number): boolean {
  return status >= 500 || status === 429;
}

/** How long to wait before attempt `attempt + 1`, in ms. */
export function retryDelayMs(retryAfter: string | null, attempt: number): number {
  const seconds = retryAfter === null ? Number.NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.max(50, seconds * 1000);
  return 250 * attempt;
}
