import { EcomflowError } from '../errors.js';
/** Errors of the dashboard: a filter that cannot be read, a file that is not one of the page's. */

export const DASHBOARD_ERROR_CODES = {
  invalid_filter: 'invalid_filter',
  unknown_asset: 'unknown_asset',
  asset_missing: 'asset_missing',
} as const;
export type DashboardErrorCode = (typeof DASHBOARD_ERROR_CODES)[keyof typeof DASHBOARD_ERROR_CODES];

export class DashboardError extends EcomflowError {
  declare readonly code: DashboardErrorCode;
  constructor(code: DashboardErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
    this.name = 'DashboardError';
  }
}

/** A query parameter of GET /dashboard/data that is not valid; `parameter` names it (`from`, `to`, `country`). */
export class FilterError extends DashboardError {
  readonly parameter: string;
  constructor(parameter: string, message: string) {
    super(DASHBOARD_ERROR_CODES.invalid_filter, message);
    this.name = 'FilterError';
    this.parameter = parameter;
  }
}

/** A file name under /dashboard/ that is not one of the page's assets. */
export class UnknownAssetError extends DashboardError {
  readonly file: string;
  constructor(file: string) {
    super(DASHBOARD_ERROR_CODES.unknown_asset, `${JSON.stringify(file)} is not a file of the dashboard`);
    this.name = 'UnknownAssetError';
    this.file = file;
  }
}

/** A file of the dashboard that is not where it should be: a packaging mistake, not a request's. */
export class AssetMissingError extends DashboardError {
  constructor(path: string) {
    super(DASHBOARD_ERROR_CODES.asset_missing, `${path} is not in any folder above this module`);
    this.name = 'AssetMissingError';
  }
}
