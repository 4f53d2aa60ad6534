import { EcomflowError } from '../errors.js';
/** Errors of the analytics layer: the warehouse refresh and the lake views. Each has a stable `code`. */

export const ANALYTICS_ERROR_CODES = {
  sql_file_unreadable: 'sql_file_unreadable',
  sql_root_not_found: 'sql_root_not_found',
  refresh_failed: 'refresh_failed',
  lake_view_failed: 'lake_view_failed',
  loyalty_row_invalid: 'loyalty_row_invalid',
  snapshot_row_invalid: 'snapshot_row_invalid',
} as const;
export type AnalyticsErrorCode = (typeof ANALYTICS_ERROR_CODES)[keyof typeof ANALYTICS_ERROR_CODES];

export class AnalyticsError extends EcomflowError {
  declare readonly code: AnalyticsErrorCode;
  constructor(code: AnalyticsErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'AnalyticsError';
  }
}

/** A model's SQL file is missing or unreadable. */
export class SqlFileError extends AnalyticsError {
  readonly path: string;
  constructor(path: string, message: string, options?: ErrorOptions) {
    super(ANALYTICS_ERROR_CODES.sql_file_unreadable, message, options);
    this.name = 'SqlFileError';
    this.path = path;
  }
}

/**
 * A refresh statement failed; the whole refresh was rolled back. `model` and `statement` (1-based, within
 * the model's file) say which one, when the engine tells.
 */
export class RefreshError extends AnalyticsError {
  readonly model: string | undefined;
  readonly statement: number | undefined;
  constructor(
    message: string,
    where: { model?: string | undefined; statement?: number | undefined },
    options?: ErrorOptions,
  ) {
    super(ANALYTICS_ERROR_CODES.refresh_failed, message, options);
    this.name = 'RefreshError';
    this.model = where.model;
    this.statement = where.statement;
  }
}

/** A lake view could not be created on DuckDB. */
export class LakeViewError extends AnalyticsError {
  readonly view: string;
  constructor(view: string, message: string, options?: ErrorOptions) {
    super(ANALYTICS_ERROR_CODES.lake_view_failed, message, options);
    this.name = 'LakeViewError';
    this.view = view;
  }
}
