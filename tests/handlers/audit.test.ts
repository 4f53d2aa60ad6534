/**
 * The audit function's wiring on AWS, with injected clients: there is no Athena, Redshift Data API or SQS
 * stand-in here (the comparison itself runs on the real stand-ins in tests/e2e/local-stack.test.ts). Each
 * fake answers only the commands the handler is expected to send, in the shapes of the SDK's models.
 */
import {
  GetQueryExecutionCommand,
  GetQueryResultsCommand,
  StartQueryExecutionCommand,
} from '@aws-sdk/client-athena';
import {
  DescribeStatementCommand,
  ExecuteStatementCommand,
  GetStatementResultCommand,
} from '@aws-sdk/client-redshift-data';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { AUDIT_RESULT_KEY, type AuditReport } from '../../src/audit/compare.js';
import type { AuditConfig } from '../../src/config/audit.js';
import { AUDIT_METRIC, type AuditDeps, createAuditHandler } from '../../src/handlers/audit.js';

const CONFIG: AuditConfig = {
  stage: 'test',
  region: 'eu-west-1',
  athena: { workGroup: 'ecomflow-test', database: 'ecomflow_test' },
  redshift: {
    database: 'dev',
    secretArn: 'arn:secret',
    workgroupName: 'ecomflow',
    clusterIdentifier: undefined,
  },
  invoicesTable: 'invoices',
  dlqUrl: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
  auditBucket: 'raw',
};

type Send = (command: unknown) => Promise<unknown>;
const client = (send: Send) => ({ send }) as never;

/** Athena: every query finishes at once; audit_days gives two days, quarantine_by_reason one reason. */
function fakeAthena(sqls: string[]): Send {
  let id = 0;
  const results = new Map<string, string[][]>();
  return async (command) => {
    if (command instanceof StartQueryExecutionCommand) {
      const sql = command.input.QueryString!;
      sqls.push(sql);
      expect(command.input).toMatchObject({
        WorkGroup: 'ecomflow-test',
        QueryExecutionContext: { Database: 'ecomflow_test' },
      });
      const qid = `q${++id}`;
      results.set(
        qid,
        /FROM quarantine/.test(sql)
          ? [
              ['quarantine_date', 'source', 'reason', 'quarantined'],
              ['2026-12-01', 'api', 'invalid_price', '4'],
            ]
          : [
              ['invoice_day', 'lines', 'invoices', 'total'],
              ['2011-01-05', '2', '1', '10.500'],
              ['2011-01-06', '1', '1', '2.000'],
            ],
      );
      return { QueryExecutionId: qid };
    }
    if (command instanceof GetQueryExecutionCommand)
      return { QueryExecution: { Status: { State: 'SUCCEEDED' } } };
    if (command instanceof GetQueryResultsCommand) {
      const rows = results.get(command.input.QueryExecutionId!)!;
      return { ResultSet: { Rows: rows.map((r) => ({ Data: r.map((v) => ({ VarCharValue: v })) })) } };
    }
    throw new Error(`unexpected Athena command ${String(command)}`);
  };
}

/** Redshift: the per-day query agrees with the lake but for one line missing on 2011-01-06. */
function fakeRedshift(): Send {
  let last = '';
  return async (command) => {
    if (command instanceof ExecuteStatementCommand) {
      last = command.input.Sql!;
      return { Id: `s-${/unrefreshed/.test(last) ? 'pending' : 'days'}` };
    }
    if (command instanceof DescribeStatementCommand) return { Status: 'FINISHED', ResultRows: 1 };
    if (command instanceof GetStatementResultCommand) {
      if (command.input.Id === 's-pending') {
        return { ColumnMetadata: [{ name: 'unrefreshed' }], Records: [[{ longValue: 3 }]] };
      }
      return {
        ColumnMetadata: [{ name: 'invoice_day' }, { name: 'lines' }, { name: 'invoices' }, { name: 'total' }],
        Records: [
          [{ stringValue: '2011-01-05' }, { longValue: 2 }, { longValue: 1 }, { stringValue: '10.500' }],
        ],
      };
    }
    throw new Error(`unexpected Redshift Data command ${String(command)}`);
  };
}

describe('the audit function', () => {
  it('reads each store, keeps the report for /status, and emits the disagreeing days as a metric', async () => {
    // Prepare
    const sqls: string[] = [];
    const puts: { bucket: string; key: string; body: string }[] = [];
    const emitted: string[] = [];
    const deps: AuditDeps = {
      config: CONFIG,
      athena: client(fakeAthena(sqls)),
      redshift: client(fakeRedshift()),
      dynamo: client(async (command) => {
        expect(command).toBeInstanceOf(ScanCommand);
        expect((command as ScanCommand).input).toMatchObject({ TableName: 'invoices' });
        return {
          Items: [
            { line_id: 'a', invoice_no: '1', invoice_date: '2011-01-05T10:00:00Z', line_total: 4 },
            { line_id: 'b', invoice_no: '1', invoice_date: '2011-01-05T11:00:00Z', line_total: 6.5 },
            { line_id: 'c', invoice_no: '2', invoice_date: '2011-01-06T10:00:00Z', line_total: 2 },
          ],
        };
      }),
      s3: client(async (command) => {
        expect(command).toBeInstanceOf(PutObjectCommand);
        const input = (command as PutObjectCommand).input;
        puts.push({ bucket: input.Bucket!, key: input.Key!, body: String(input.Body) });
        return {};
      }),
      sqs: client(async (command) => {
        expect(command).toBeInstanceOf(GetQueueAttributesCommand);
        return {
          Attributes: { ApproximateNumberOfMessages: '1', ApproximateNumberOfMessagesNotVisible: '1' },
        };
      }),
      emit: (line) => emitted.push(line),
    };

    // Act
    const report = await createAuditHandler(() => deps)();

    // Assess
    expect(report.disagreements.map((d) => [d.day, d.differences])).toEqual([
      ['2011-01-06', [{ store: 'warehouse', lines: -1, invoices: -1, total: '-2.000' }]],
    ]);
    expect(report.quarantine).toEqual([{ source: 'api', reason: 'invalid_price', quarantined: 4 }]);
    expect(report.pending).toEqual({ firehoseLines: null, deadLetters: 2, warehouseUnrefreshed: 3 });
    expect(sqls.some((s) => /FROM invoice_lines\b/.test(s))).toBe(true);
    expect(puts).toHaveLength(1);
    expect(puts[0]).toMatchObject({ bucket: 'raw', key: AUDIT_RESULT_KEY });
    expect((JSON.parse(puts[0]!.body) as AuditReport).disagreements).toHaveLength(1);
    const metric = JSON.parse(emitted[0]!) as Record<string, unknown>;
    expect(metric).toMatchObject({ Stage: 'test', [AUDIT_METRIC.name]: 1 });
  });
});
