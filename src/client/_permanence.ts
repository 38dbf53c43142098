// Internal: which failures look permanent, so that retrying them is unlikely to help: the server
// refused the upgrade as a bad request, unauthorized, forbidden or not found, or the connection
// was closed (by the server, or by us for the server's own violation) as a protocol error, an
// unacceptable data type, invalid data or a policy violation.

import { HandshakeError } from "../vocabulary/handshake_error.ts";
import { ProtocolError } from "../protocol/protocol_error.ts";
import type { DisconnectReason } from "./reasons.ts";

const PERMANENT_STATUSES = new Set([400, 401, 403, 404]);
const PERMANENT_CODES = new Set([1002, 1003, 1007, 1008]);

/** Whether `reason` looks like a failure a retry will not cure. */
export function looksPermanent(reason: DisconnectReason): boolean {
  switch (reason.kind) {
    case "remote_close":
      return PERMANENT_CODES.has(reason.code);
    case "error": {
      const error = reason.error;
      if (error instanceof HandshakeError) {
        return error.status !== undefined && PERMANENT_STATUSES.has(error.status);
      }
      return error instanceof ProtocolError && PERMANENT_CODES.has(error.code);
    }
    default:
      return false;
  }
}
