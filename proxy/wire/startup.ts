// Decodes the untyped first packet of a connection: StartupMessage, SSLRequest, GSSENCRequest, CancelRequest.
// @see https://www.postgresql.org/docs/current/protocol-message-formats.html (StartupMessage, SSLRequest)

export const PROTOCOL_3_0 = 196608;
export const SSL_REQUEST = 80877103;
export const GSSENC_REQUEST = 80877104;
export const CANCEL_REQUEST = 80877102;

export type StartupPacket =
  | { type: 'SSLRequest' }
  | { type: 'GSSENCRequest' }
  | { type: 'CancelRequest'; pid: number; secret: number }
  | { type: 'StartupMessage'; minor: number; parameters: Map<string, string> }
  | { type: 'Unsupported'; major: number; minor: number }
  | { type: 'Malformed'; reason: string };

/** Decodes one complete startup packet (its 4-byte length already checked and included). */
export function decodeStartupPacket(packet: Buffer): StartupPacket {
  if (packet.length < 8) return { type: 'Malformed', reason: 'startup packet too short' };
  const code = packet.readInt32BE(4);
  if (code === SSL_REQUEST) {
    return packet.length === 8 ? { type: 'SSLRequest' } : malformed('SSLRequest length');
  }
  if (code === GSSENC_REQUEST) {
    return packet.length === 8 ? { type: 'GSSENCRequest' } : malformed('GSSENCRequest length');
  }
  if (code === CANCEL_REQUEST) {
    if (packet.length !== 16) return malformed('CancelRequest length');
    return { type: 'CancelRequest', pid: packet.readInt32BE(8), secret: packet.readInt32BE(12) };
  }
  const major = code >>> 16;
  const minor = code & 0xffff;
  // 3.x with x > 0 is answered with NegotiateProtocolVersion and served as 3.0, as the server does.
  if (major !== 3) return { type: 'Unsupported', major, minor };
  return decodeParameters(packet, minor);
}

function decodeParameters(packet: Buffer, minor: number): StartupPacket {
  const parameters = new Map<string, string>();
  let pos = 8;
  const end = packet.length;
  for (;;) {
    if (pos >= end) return malformed('startup parameters are not terminated');
    if (packet[pos] === 0) {
      if (pos !== end - 1) return malformed('bytes after the startup parameters');
      return { type: 'StartupMessage', minor, parameters };
    }
    const nameEnd = packet.indexOf(0, pos);
    if (nameEnd < 0 || nameEnd >= end - 1) return malformed('startup parameter name');
    const valueEnd = packet.indexOf(0, nameEnd + 1);
    if (valueEnd < 0) return malformed('startup parameter value');
    const name = packet.toString('utf8', pos, nameEnd);
    if (parameters.has(name)) return malformed(`duplicate startup parameter "${name}"`);
    parameters.set(name, packet.toString('utf8', nameEnd + 1, valueEnd));
    pos = valueEnd + 1;
  }
}

function malformed(reason: string): StartupPacket {
  return { type: 'Malformed', reason };
}
