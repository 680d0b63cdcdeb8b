/**
 * How the sandbox's cmdlet backend hands typed .NET values to the fake PowerShell modules through JSON: a scalar the
 * module must turn into a Guid, a byte[], a DateTime (with its Kind) or a TimeSpan travels as a one-key object, which
 * the modules' ConvertFrom-SandboxJson (modules/SandboxBackend.ps1) converts back. Everything else is plain JSON.
 */
import { createHash } from 'node:crypto';

export type Typed = { $guid: string } | { $bytes: string } | { $datetime: string; kind: 'Utc' | 'Local' | 'Unspecified' } | { $timespan: string };

export const guid = (value: string): Typed => ({ $guid: value.toLowerCase() });

/** A GUID as byte[] in .NET's order (Guid.ToByteArray), as AD returns mS-DS-ConsistencyGuid. */
export function guidBytes(value: string): Typed {
  const h = value.replace(/-/g, '');
  const b = Buffer.from(h, 'hex');
  const le = Buffer.concat([
    Buffer.from(b.subarray(0, 4)).reverse(),
    Buffer.from(b.subarray(4, 6)).reverse(),
    Buffer.from(b.subarray(6, 8)).reverse(),
    b.subarray(8),
  ]);
  return { $bytes: le.toString('base64') };
}

/** A DateTime: `kind` Unspecified for values Microsoft returns as UTC without a zone (ADSync run history). */
export function datetime(iso: string, kind: 'Utc' | 'Local' | 'Unspecified' = 'Utc'): Typed {
  const d = new Date(/[zZ]|[+-]\d\d:\d\d$/.test(iso) ? iso : `${iso}Z`);
  return { $datetime: d.toISOString().replace(/Z$/, kind === 'Unspecified' ? '' : 'Z'), kind };
}

/** A TimeSpan in .NET's invariant format (d.hh:mm:ss), e.g. 00:30:00 or 7.00:00:00. */
export const timespan = (value: string): Typed => ({ $timespan: value });

/** A deterministic GUID derived from text (the ids of connector-space and metaverse objects). */
export function derivedGuid(text: string): string {
  const h = createHash('sha1').update(text).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * A cmdlet's failure, as PowerShell reports it: the message, the ErrorCategory and the FullyQualifiedErrorId the real
 * cmdlet would use (the module throws a terminating ErrorRecord with them).
 */
export class CmdletError extends Error {
  constructor(
    readonly category: string,
    message: string,
    readonly errorId: string,
  ) {
    super(message);
    this.name = 'CmdletError';
  }
}

/** A parameter or behaviour the sandbox does not model: loud, so a new script never passes by doing nothing. */
export function notModelled(cmdlet: string, what: string): CmdletError {
  return new CmdletError('NotImplemented', `${cmdlet}: the sandbox does not model ${what}; extend src/sandbox/powershell to rehearse it`, 'SandboxNotModelled');
}
