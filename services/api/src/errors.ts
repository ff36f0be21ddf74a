/** Every failure the API reports to clients; the HTTP status of each is decided in one place. */
export type ApiErrorCode =
  | "bad_request"
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "method_not_allowed"
  | "conflict"
  | "claim_required"
  | "already_claimed"
  | "already_decided"
  | "payload_too_large"
  | "unsupported_media_type"
  | "rate_limited"
  | "unavailable"
  | "internal";

export const STATUS_BY_CODE: Readonly<Record<ApiErrorCode, number>> = {
  bad_request: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  method_not_allowed: 405,
  conflict: 409,
  claim_required: 409,
  already_claimed: 409,
  already_decided: 409,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  unavailable: 503,
  internal: 500,
};

/** The codes, in the table's order: the OpenAPI document's closed enum of `error.code`. */
export const API_ERROR_CODES = Object.keys(STATUS_BY_CODE) as [ApiErrorCode, ...ApiErrorCode[]];

/** The codes answered with one HTTP status (the document lists each status with the codes it may carry). */
export function codesFor(status: number): ApiErrorCode[] {
  return API_ERROR_CODES.filter((c) => STATUS_BY_CODE[c] === status);
}

export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly fields: readonly FieldIssue[] = [],
  ) {
    super(message);
  }
  get status(): number {
    return STATUS_BY_CODE[this.code];
  }
}
