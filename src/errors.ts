/**
 * The root of every error ecomflow throws on purpose. Each module keeps its own base class (STYLE.md habit
 * 4) and extends this one, so a caller such as the CLI can tell "ours, with a stable `code` and a message
 * meant for a person" from a bug, without listing the modules' classes.
 */
export class EcomflowError extends Error {
  /** Stable, machine-readable; callers branch on it. */
  readonly code: string;
  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EcomflowError';
    this.code = code;
  }
}
