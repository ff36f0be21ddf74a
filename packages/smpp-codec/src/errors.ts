export type SmppCodecErrorCode =
  | "unsupported_data_coding"
  | "malformed_udh"
  | "unencodable_text"
  | "message_too_long"
  | "invalid_argument";

export class SmppCodecError extends Error {
  override readonly name = "SmppCodecError";
  constructor(
    readonly code: SmppCodecErrorCode,
    message: string,
  ) {
    super(message);
  }
}
