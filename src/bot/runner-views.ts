import type { RunnerRequest } from '../runbooks/runner-registrations.js';
import { renderCard, type Card } from './cards.js';

/** Cards of runner registrations: the shared request card (never a token), and the token card (its requester's only). */

const fmt = (d: Date | null | undefined) =>
  d
    ? d
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC')
    : '—';

const STATES: Record<RunnerRequest['state'], { style: string; color: string }> = {
  awaiting_approval: { style: 'warning', color: 'Warning' },
  approved: { style: 'good', color: 'Good' },
  issued: { style: 'good', color: 'Good' },
  rejected: { style: 'attention', color: 'Attention' },
  expired: { style: 'attention', color: 'Attention' },
};

/** The request as everyone in the channel sees it. */
export function runnerRequestCard(r: RunnerRequest, opts: { notice?: string; expiresAt: Date }): Card {
  const who = r.requestedBy.name;
  const label = {
    awaiting_approval: 'Waiting for a second administrator',
    approved: `Approved — ${who} can take the token until ${fmt(r.claimBy)}`,
    issued: `Registered — the token was shown to ${who} only`,
    rejected: `Rejected by ${r.decidedBy?.name ?? 'an administrator'}`,
    expired: 'Expired — nothing was registered',
  }[r.state];
  const facts: { title: string; value: string }[] = [
    { title: 'Runner', value: r.name },
    { title: 'Asked by', value: `${who} at ${fmt(r.requestedAt)}` },
  ];
  if (r.state === 'awaiting_approval')
    facts.push({ title: 'Approval', value: `another administrator (not ${who}); the request expires ${fmt(opts.expiresAt)}` });
  if (r.decidedBy && r.state !== 'rejected') facts.push({ title: 'Approved by', value: `${r.decidedBy.name} at ${fmt(r.decidedAt)}` });
  if (r.state === 'approved') facts.push({ title: 'Token', value: `shown once, to ${who} alone, when they press "Show my token"` });
  if (r.state === 'issued') facts.push({ title: 'Token shown', value: `to ${who} at ${fmt(r.issuedAt)} (not in this channel)` });
  if (r.claimBy && (r.state === 'approved' || r.state === 'issued'))
    facts.push({ title: 'First use by', value: `${fmt(r.claimBy)}: a token the runner has not used by then never works` });
  facts.push({ title: 'Request id', value: r.id });
  const s = STATES[r.state];
  return renderCard('runner-request', {
    id: r.id,
    version: r.version,
    name: r.name,
    kindLabel: r.kind === 'add' ? 'Runner registration' : 'Runner token rotation',
    stateLabel: label,
    stateStyle: s.style,
    stateColor: s.color,
    notice: opts.notice ?? null,
    facts,
    buttons: { decide: r.state === 'awaiting_approval', token: r.state === 'approved' },
  });
}

/** The token, for the administrator who asked: only ever the body of their own invoke response. */
export function runnerTokenCard(r: RunnerRequest, token: string, opts: { serverUrl: string }): Card {
  return renderCard('runner-token', {
    name: r.name,
    token,
    facts: [
      { title: 'First use by', value: `${fmt(r.claimBy)} (the runner must connect before then, or the token never works)` },
      { title: 'Approved by', value: r.decidedBy?.name ?? '—' },
      { title: 'Request id', value: r.id },
    ],
    command: `cutover-runner --server ${opts.serverUrl} --token-file <file> --executor powershell`,
  });
}
