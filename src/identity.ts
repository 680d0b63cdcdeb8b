/** How Entra shows an on-premises object's source anchor (onPremisesImmutableId). */

/** base64 of the GUID's bytes in Microsoft's mixed-endian order: how Entra shows onPremisesImmutableId. */
export function immutableIdOf(guid: string): string {
  const hex = guid.replace(/-/g, '');
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not a GUID: ${guid}`);
  const b = Buffer.from(hex, 'hex');
  const le = Buffer.concat([
    Buffer.from(b.subarray(0, 4)).reverse(),
    Buffer.from(b.subarray(4, 6)).reverse(),
    Buffer.from(b.subarray(6, 8)).reverse(),
    b.subarray(8),
  ]);
  return le.toString('base64');
}

export function sourceAnchorOf(obj: { objectGUID: string; consistencyGuid?: string | null }): string {
  return immutableIdOf(obj.consistencyGuid ?? obj.objectGUID);
}
