import { type HttpResponse, json } from '../http.js';

/** GET /health: the function runs. It touches no service, so it stays cheap and needs no API key. */
export function getHealth(): HttpResponse {
  return json(200, { status: 'ok' });
}
