import { join } from 'node:path';
import { CostError } from '../../src/cost/errors.js';
import { type Measurements, parseMeasurements, readMeasurements } from '../../src/cost/measurements.js';
import { costLint, estimateCost } from '../../src/cost/model.js';
import { PRICES } from '../../src/cost/prices.js';
import { readServiceConfig, runsPerMonth, type ServiceConfig } from '../../src/cost/service-config.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MEASURED = readMeasurements(join(ROOT, 'config', 'measurements.json'));
const CONFIG = readServiceConfig(ROOT, 'dev');

describe('the service configuration', () => {
  it('is read from serverless.yml, resources/ and the stage parameters', () => {
    expect(CONFIG.memoryMb['transform']).toBeGreaterThan(0);
    expect(CONFIG.kinesis.mode).toBe('ON_DEMAND');
    expect(CONFIG.firehose.map((f) => f.stream).sort()).toEqual([
      'LakeDeliveryStream',
      'WarehouseDeliveryStream',
    ]);
    const lake = CONFIG.firehose.find((f) => f.stream === 'LakeDeliveryStream')!;
    expect(lake).toMatchObject({ dynamicPartitioning: true, formatConversion: true });
    expect(CONFIG.refreshPerMonth).toBe(runsPerMonth('rate(15 minutes)'));
    // dev overrides the default retention in config/params.yml.
    expect(CONFIG.logRetentionDays).toBe(14);
    expect(readServiceConfig(ROOT, 'prod').logRetentionDays).toBe(90);
  });
});

describe('estimateCost', () => {
  it('prices packed records far below one line a record on Firehose, and the same elsewhere but Kinesis', () => {
    const unpacked = estimateCost(CONFIG, MEASURED, 10e6, 'unpacked');
    const packed = estimateCost(CONFIG, MEASURED, 10e6, 'packed');
    const of = (e: typeof packed, name: string) =>
      e.services.find((s) => s.service.startsWith(name))!.monthlyUsd;
    expect(of(packed, 'Firehose')).toBeLessThan(of(unpacked, 'Firehose') / 5);
    expect(of(packed, 'Kinesis')).toBeLessThan(of(unpacked, 'Kinesis'));
    expect(of(packed, 'DynamoDB')).toBe(of(unpacked, 'DynamoDB'));
    expect(packed.totalUsd).toBeCloseTo(
      packed.services.reduce((n, s) => n + s.monthlyUsd, 0),
      6,
    );
    expect(packed.perMillionLinesUsd).toBeCloseTo(packed.totalUsd / 10, 6);
  });

  it('bills Firehose ingestion on the billed bytes, per stream', () => {
    const packed = estimateCost(
      { ...CONFIG, firehose: [{ ...CONFIG.firehose[1]! }] },
      MEASURED,
      MEASURED.lines,
      'packed',
    );
    const firehose = packed.services.find((s) => s.service.startsWith('Firehose'))!;
    expect(firehose.monthlyUsd).toBeCloseTo(
      (MEASURED.firehose.packed.billedBytes / 1e9) * PRICES.firehoseIngestGb.usd,
      9,
    );
  });

  it('scales the per-line services linearly, so fixed costs fall per million lines as volume grows', () => {
    const small = estimateCost(CONFIG, MEASURED, 1e6, 'packed');
    const large = estimateCost(CONFIG, MEASURED, 100e6, 'packed');
    expect(large.perMillionLinesUsd).toBeLessThan(small.perMillionLinesUsd);
    const dynamo = (e: typeof small) => e.services.find((s) => s.service.startsWith('DynamoDB'))!.monthlyUsd;
    expect(dynamo(large)).toBeCloseTo(dynamo(small) * 100, 6);
  });
});

describe('costLint', () => {
  const quiet: ServiceConfig = {
    ...CONFIG,
    firehose: CONFIG.firehose.map((f) => ({ ...f, intervalSeconds: 900 })),
    kinesis: { mode: 'ON_DEMAND', shards: 0 },
    vpc: [],
  };

  it('is quiet for packed records, long buffers, on-demand Kinesis and no VPC', () => {
    expect(costLint(quiet, MEASURED)).toEqual([]);
  });

  it.each([
    ['firehose_small_records', quiet, 'unpacked'],
    [
      'firehose_short_buffer',
      { ...quiet, firehose: [{ ...quiet.firehose[0]!, intervalSeconds: 60 }] },
      'packed',
    ],
    ['kinesis_provisioned_shards', { ...quiet, kinesis: { mode: 'PROVISIONED', shards: 4 } }, 'packed'],
    ['vpc_on_data_path', { ...quiet, vpc: ['NatGateway: AWS::EC2::NatGateway'] }, 'packed'],
  ] as [string, ServiceConfig, 'packed' | 'unpacked'][])('warns %s', (code, config, packing) => {
    expect(costLint(config, MEASURED, packing).map((w) => w.code)).toEqual([code]);
  });
});

describe('measurements', () => {
  it('name the field that is wrong', () => {
    const broken = {
      ...MEASURED,
      firehose: { ...MEASURED.firehose, packed: { ...MEASURED.firehose.packed, billedBytes: -1 } },
    };
    expect(() => parseMeasurements(JSON.stringify(broken), 'm.json')).toThrow(CostError);
    expect(() => parseMeasurements(JSON.stringify(broken), 'm.json')).toThrow(
      'm.json: firehose.packed.billedBytes must be a positive number, not -1',
    );
    expect(() => parseMeasurements('nope', 'm.json')).toThrow(/m\.json is not JSON/);
  });

  it('as committed, hold what the bench measured for the real data', () => {
    const m: Measurements = MEASURED;
    expect(m.lines).toBe(541_909);
    expect(m.kinesis.unpacked.records).toBe(m.lines);
    expect(m.firehose.packed.billedBytes).toBeGreaterThanOrEqual(m.firehose.packed.bytes);
  });
});
