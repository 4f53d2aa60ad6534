import { type HttpResponse, json } from '../http.js';

/**
 * GET /health: the function runs. It touches no service, so it stays cheap and needs no API key. `detail`
 * is what the host adds of its own (the local stack: its Firehose's deliveries, and the lines the warehouse
 * refused and that were set aside); on AWS there is none, and CloudWatch holds those figures.
 */
export function getHealth(detail?: Record<string, unknown>): HttpResponse {
  return json(200, detail ? { status: 'ok', detail } : { status: 'ok' });
}
