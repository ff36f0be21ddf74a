export { SmppCodecError } from "./errors.js";
export type { SmppCodecErrorCode } from "./errors.js";
export {
  decodeGsmSeptets,
  encodeGsmSeptets,
  gsmSeptetLength,
  isGsmEncodable,
  packSeptets,
  unpackSeptets,
  septetStartBit,
} from "./gsm7.js";
export {
  DATA_CODING,
  codecFor,
  isSupportedDataCoding,
  decodeText,
  decodeUserData,
  encodeText,
  chooseDataCoding,
  looksPacked,
} from "./text.js";
export type { GsmPacking, TextCodec } from "./text.js";
export { parseUdh, concatFromUdh, isValidConcat, buildConcatUdh } from "./udh.js";
export type { UdhElement, ParsedUdh, ConcatInfo, ConcatStyle } from "./udh.js";
export { ESM_CLASS_UDHI, extractPart, decodePdu, fieldsFromSmppPdu } from "./parts.js";
export type { SmppMessageFields, MessagePart, ExtractOptions } from "./parts.js";
export { Reassembler } from "./reassembler.js";
export type { ReassemblerOptions, AssembledMessage, AssemblyReason, PushResult, PushStatus } from "./reassembler.js";
export { splitMessage } from "./split.js";
export type { OutgoingPart, SplitOptions } from "./split.js";
export { loadSmpp, corkUntilNextTick } from "./smpp.js";
export type { SmppModule, SmppPdu, SmppSession, SmppServer, SmppPduConstructor } from "./smpp.js";
