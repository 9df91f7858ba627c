/**
 * Errors the user can read. Core functions throw a WorkbenchError only at their boundary; the UI and
 * the CLI show `message` as it is (one line, says what is wrong and what to do), never a stack.
 */
export type ErrorCode =
  | 'empty-file'
  | 'not-tflite'
  | 'truncated'
  | 'malformed'
  | 'too-large'
  | 'unsupported'
  | 'runtime'
  | 'bad-input'
  | 'float-fallback'
  | 'cancelled';

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  opIndex?: number;
}

export class WorkbenchError extends Error {
  readonly code: ErrorCode;
  readonly opIndex?: number;

  constructor(code: ErrorCode, message: string, opIndex?: number) {
    super(message);
    this.name = 'WorkbenchError';
    this.code = code;
    if (opIndex !== undefined) this.opIndex = opIndex;
  }

  toInfo(): ErrorInfo {
    return this.opIndex === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, opIndex: this.opIndex };
  }
}

/** Any thrown value as an ErrorInfo, for crossing a worker boundary or printing. */
export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof WorkbenchError) return error.toInfo();
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) {
    return { code: (error as ErrorInfo).code, message: String((error as ErrorInfo).message) };
  }
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'runtime', message };
}
