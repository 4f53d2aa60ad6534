import type { ItemKey } from '../adapters/dynamodb.js';
import { BadRequestError } from './errors.js';

/**
 * Opaque pagination cursors: base64url of `{ v: 1, k: <ExclusiveStartKey> }`.
 *
 * The key is always the key of the last item the previous page used, so a page never starts inside a group
 * (a customer's invoice is several line items; the cursor points after the invoice's last line). The
 * partition key in it must match the one being listed, so a cursor cannot be replayed against another
 * customer or stock code.
 */
export function encodeCursor(key: ItemKey): string {
  return Buffer.from(JSON.stringify({ v: 1, k: key })).toString('base64url');
}

/**
 * Decodes a cursor and checks it against the key schema it must hold: exactly `keyAttributes` (the table's
 * or the index's key, as DynamoDB's LastEvaluatedKey has them), every value a string, and
 * `partitionAttribute` holding `partitionValue`. DynamoDB refuses any other ExclusiveStartKey with a
 * ValidationException; checked here, a forged cursor is the client's 400, not the service's 503.
 * @throws BadRequestError when the cursor is malformed or belongs to another list
 */
export function decodeCursor(
  cursor: string | undefined | null,
  partitionAttribute: string,
  partitionValue: string,
  keyAttributes: readonly string[],
): ItemKey | undefined {
  if (cursor === undefined || cursor === null || cursor === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const key = (parsed as { v?: unknown; k?: unknown } | undefined)?.k;
  const valid =
    (parsed as { v?: unknown } | undefined)?.v === 1 &&
    typeof key === 'object' &&
    key !== null &&
    !Array.isArray(key) &&
    Object.keys(key).length === keyAttributes.length &&
    keyAttributes.every(
      (name) => typeof (key as ItemKey)[name] === 'string' && (key as ItemKey)[name] !== '',
    ) &&
    (key as ItemKey)[partitionAttribute] === partitionValue;
  if (!valid) {
    throw new BadRequestError(
      'invalid_cursor',
      `next ${JSON.stringify(cursor.length > 60 ? `${cursor.slice(0, 60)}...` : cursor)} is not a cursor of this list`,
    );
  }
  return key as ItemKey;
}
