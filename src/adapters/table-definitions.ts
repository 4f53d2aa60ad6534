import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { BY_STOCK_INDEX, KEY_ATTRIBUTES, type LogicalTable, TABLES } from '../core/dynamo-items.js';

/**
 * The DynamoDB tables, as `CreateTable` input: the one description the test setup and the local stack
 * create, and that `resources/tables.yml` mirrors (on AWS, also with PITR and SSE, which the emulators
 * do not model). Keys are explained in `src/core/dynamo-items.ts`.
 */
export function tableDefinition(table: LogicalTable, tableName: string): CreateTableCommandInput {
  const { pk, sk, gsi1pk, gsi1sk } = KEY_ATTRIBUTES;
  const base: CreateTableCommandInput = {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    KeySchema: [
      { AttributeName: pk, KeyType: 'HASH' },
      { AttributeName: sk, KeyType: 'RANGE' },
    ],
    AttributeDefinitions: [
      { AttributeName: pk, AttributeType: 'S' },
      { AttributeName: sk, AttributeType: 'S' },
    ],
  };
  if (table === TABLES.customers) return base;
  return {
    ...base,
    AttributeDefinitions: [
      ...(base.AttributeDefinitions ?? []),
      { AttributeName: gsi1pk, AttributeType: 'S' },
      { AttributeName: gsi1sk, AttributeType: 'S' },
    ],
    GlobalSecondaryIndexes: [
      {
        IndexName: BY_STOCK_INDEX,
        KeySchema: [
          { AttributeName: gsi1pk, KeyType: 'HASH' },
          { AttributeName: gsi1sk, KeyType: 'RANGE' },
        ],
        // Only membership items carry gsi1pk, so the index is sparse and small: project everything.
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  };
}

/** Both tables, given their physical names. */
export function tableDefinitions(names: { invoices: string; customers: string }): CreateTableCommandInput[] {
  return [
    tableDefinition(TABLES.invoices, names.invoices),
    tableDefinition(TABLES.customers, names.customers),
  ];
}
