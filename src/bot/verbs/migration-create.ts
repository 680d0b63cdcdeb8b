import { z } from 'zod';
import { noticeCard } from '../cards.js';
import { createWithinAnswerTime, creatingCard, formCard, homeText, renderForm, type CreationResult } from '../migration-creation.js';
import { defineVerb } from '../turn.js';

const formData = z.object({
  kind: z.string().max(60).optional(),
  name: z.string().max(200).optional(),
  domain: z.string().max(253).optional(),
  ou: z.string().max(2048).optional(),
  owners: z.string().max(4000).optional(),
  ownerChoices: z.string().max(4000).optional(),
  ownersGroup: z.string().max(100).optional(),
  approvals: z.union([z.string().max(10), z.number()]).optional(),
  runner: z.string().max(64).optional(),
});

/** The new-migration form's Create: the form comes back with the reason when something is wrong. */
export const migrationCreateVerb = defineVerb<Record<string, unknown>>({
  triggerVerbs: ['migration.create'],
  async handleActionInvoked(turn, _verb, data) {
    const p = formData.safeParse(data);
    if (!p.success) return formCard(turn, {}, 'The form data is not valid. Please fill it in again.');
    const f = p.data;
    const owners = [...(f.ownerChoices ?? '').split(','), ...(f.owners ?? '').split(',')].map((s) => s.trim()).filter(Boolean);
    const created = (out: CreationResult) =>
      noticeCard(`Migration "${out.ok ? out.migration.name : ''}" created`, out.ok ? `${homeText(out.migration)} Migration id: ${out.migration.id}.` : '', {
        color: 'Good',
      });
    const { tenantId, actor } = turn;
    const out = await createWithinAnswerTime(
      turn,
      {
        name: f.name ?? '',
        kind: f.kind || 'connect-to-cloud-sync',
        domain: f.domain ?? '',
        ous: (f.ou ?? '')
          .split(';')
          .map((s) => s.trim())
          .filter(Boolean),
        owners,
        ownersGroup: f.ownersGroup?.trim() || undefined,
        approvals: f.approvals === undefined || f.approvals === '' ? undefined : Number(f.approvals),
        runner: f.runner?.trim() || undefined,
      },
      {
        late: async () => turn.replyToId, // the form's message: updated with the result
        // Answered later: the form comes back with the reason, as it would have at once.
        done: async (r, roster) => (r.ok ? created(r) : renderForm(turn.d, tenantId, actor.oid, roster ?? [], f as Record<string, string>, r.error)),
      },
    );
    if (!out) return creatingCard(f.name ?? 'the migration');
    if (!out.ok) return formCard(turn, f as Record<string, string>, out.error);
    return created(out);
  },
});
