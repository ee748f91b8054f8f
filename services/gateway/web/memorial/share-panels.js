// "Invite family" (contribute links: relatives add photos, approved first by default, shown as a QR
// code too) and "Share the video" (view links: watch, maybe download, maybe with a password and an
// end date). Each lists its links with how often they were used, and revokes them.
import { Name } from '../common.js';
import { fmtDate } from '../lib/format.js';
import { t } from '../lib/i18n.js';
import { html, useRef, useState } from '../lib/ui.js';
import { copyText } from './links.js';
import { QrCode } from './qr.js';

/** The link just made: its address to copy (shown only now), and for a contribute link its QR code. */
function MadeLink({ link }) {
  const field = useRef(null);
  const [copied, setCopied] = useState(false);
  const fid = `made-${link.kind}-url`;
  return html`<div class="made-link" id=${`made-${link.kind}`}>
    <label for=${fid}>${t('links.address')}</label>
    <div class="copy-row">
      <input id=${fid} ref=${field} type="text" readonly value=${link.url} dir="ltr" aria-describedby=${`${fid}-hint`} onFocus=${(e) => e.currentTarget.select()} />
      <button type="button" class="btn" onClick=${async () => setCopied(await copyText(link.url, field.current))}>${copied ? t('links.copiedShort') : t('links.copy')}</button>
    </div>
    <p class="hint" id=${`${fid}-hint`}>${t('links.onceOnly')}</p>
    ${link.kind === 'contribute' ? html`<${QrCode} id="contribute-qr" text=${link.url} label=${t('links.qrLabel', { label: link.label ?? t('links.kind.contribute') })} />` : ''}
  </div>`;
}

/** One link in the list: its label, what it allows, how often it was used, and Revoke. */
function LinkRow({ link, onRevoke }) {
  const label = link.label ?? t(`links.kind.${link.kind}`);
  const facts = [
    link.kind === 'contribute' ? t(link.moderated ? 'links.moderated' : 'links.unmoderated') : t(link.allow_download ? 'links.download' : 'links.noDownload'),
    link.has_password ? t('links.hasPassword') : null,
    link.expires_at ? t('links.until', { date: fmtDate(link.expires_at) }) : null,
    link.use_count === 1 ? t('links.used1') : t('links.used', { n: link.use_count }),
  ].filter(Boolean);
  return html`<li class="link-row">
    <div><strong><${Name} text=${label} /></strong> <span class="muted small">${facts.join(' · ')}</span></div>
    <button type="button" class="btn btn-quiet btn-small" aria-label=${t('links.revokeLabel', { label })} onClick=${() => onRevoke(link)}>${t('links.revoke')}</button>
  </li>`;
}

function LinkList({ kind, links }) {
  const items = links.ofKind(kind);
  if (!links.loaded) return html`<p class="muted">${t('loading')}</p>`;
  if (!items.length) return html`<p class="empty">${t('links.none')}</p>`;
  return html`<ul class="link-list" id=${`${kind}-links`} aria-label=${t(`links.listOf.${kind}`)}>
    ${items.map((l) => html`<${LinkRow} key=${l.id} link=${l} onRevoke=${links.revoke} />`)}
  </ul>`;
}

export function InvitePanel({ links }) {
  const [label, setLabel] = useState('');
  const [moderated, setModerated] = useState(true);
  const submit = async (e) => {
    e.preventDefault();
    if (await links.create({ kind: 'contribute', label: label.trim() || null, moderated })) setLabel('');
  };
  return html`<section class="panel" aria-labelledby="contribute-h">
    <h2 id="contribute-h" tabindex="-1">${t('links.inviteTitle')}</h2>
    <p class="muted">${t('links.inviteIntro')}</p>
    <form class="form" onSubmit=${submit}>
      <div class="field">
        <label for="invite-label">${t('links.label')}</label>
        <input id="invite-label" type="text" maxlength="100" value=${label} aria-describedby="invite-label-hint" onInput=${(e) => setLabel(e.currentTarget.value)} />
        <p class="hint" id="invite-label-hint">${t('links.labelHint')}</p>
      </div>
      <div class="check">
        <input id="invite-moderated" type="checkbox" checked=${moderated} onChange=${(e) => setModerated(e.currentTarget.checked)} />
        <label for="invite-moderated">${t('links.moderate')}</label>
      </div>
      <div class="actions"><button type="submit" class="btn btn-primary" disabled=${links.busy}>${t('links.makeInvite')}</button></div>
    </form>
    ${links.made.contribute ? html`<${MadeLink} link=${links.made.contribute} />` : ''}
    <h3>${t('links.listOf.contribute')}</h3>
    <${LinkList} kind="contribute" links=${links} />
  </section>`;
}

export function ShareVideoPanel({ links }) {
  const [allowDownload, setAllowDownload] = useState(false);
  const [password, setPassword] = useState('');
  const [until, setUntil] = useState('');
  const submit = async (e) => {
    e.preventDefault();
    // The end of the chosen day where the family is.
    const expires_at = until ? new Date(`${until}T23:59:59`).toISOString() : null;
    if (await links.create({ kind: 'view', allow_download: allowDownload, password: password || null, expires_at })) setPassword('');
  };
  return html`<section class="panel" aria-labelledby="view-h">
    <h2 id="view-h" tabindex="-1">${t('links.shareTitle')}</h2>
    <p class="muted">${t('links.shareIntro')}</p>
    <form class="form" onSubmit=${submit}>
      <div class="check">
        <input id="share-download" type="checkbox" checked=${allowDownload} onChange=${(e) => setAllowDownload(e.currentTarget.checked)} />
        <label for="share-download">${t('links.allowDownload')}</label>
      </div>
      <div>
        <div class="field">
          <label for="share-password">${t('links.password')}</label>
          <input id="share-password" type="password" autocomplete="new-password" minlength="4" value=${password} aria-describedby="share-password-hint" onInput=${(e) => setPassword(e.currentTarget.value)} />
          <p class="hint" id="share-password-hint">${t('links.passwordHint')}</p>
        </div>
        <div class="field">
          <label for="share-until">${t('links.until.label')}</label>
          <input id="share-until" type="date" min=${new Date().toISOString().slice(0, 10)} value=${until} aria-describedby="share-until-hint" onInput=${(e) => setUntil(e.currentTarget.value)} />
          <p class="hint" id="share-until-hint">${t('links.untilHint')}</p>
        </div>
      </div>
      <div class="actions"><button type="submit" class="btn btn-primary" disabled=${links.busy}>${t('links.makeView')}</button></div>
    </form>
    ${links.made.view ? html`<${MadeLink} link=${links.made.view} />` : ''}
    <h3>${t('links.listOf.view')}</h3>
    <${LinkList} kind="view" links=${links} />
  </section>`;
}
