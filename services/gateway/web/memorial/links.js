// A memorial's share links (members only): list them, make one, revoke one. A new link's address (with
// its key) is answered once, when it is made: it is kept here, in memory, for the family to copy or show
// as a QR code, and never stored anywhere.
import { api } from '../lib/api.js';
import { t } from '../lib/i18n.js';
import { announce, focusSoon } from '../lib/page.js';
import { useEffect, useState } from '../lib/ui.js';

export function useLinks(projectId, setError) {
  const base = `/projects/${encodeURIComponent(projectId)}/links`;
  const [links, setLinks] = useState(null);
  const [made, setMade] = useState({}); // kind → the link just made (with its url)
  const [busy, setBusy] = useState(false);
  const refresh = () =>
    api('GET', base)
      .then((r) => setLinks(r.items))
      .catch(setError);
  useEffect(() => {
    refresh();
  }, [projectId]);

  const create = async (body) => {
    setBusy(true);
    try {
      const link = await api('POST', base, body);
      setMade((m) => ({ ...m, [link.kind]: link }));
      setLinks((l) => [link, ...(l ?? [])]);
      announce(t(link.kind === 'view' ? 'links.madeView' : 'links.madeContribute'));
      focusSoon(`#made-${link.kind} input`);
      return true;
    } catch (e) {
      setError(e);
      return false;
    } finally {
      setBusy(false);
    }
  };
  const revoke = async (link) => {
    if (!confirm(t('links.revokeConfirm', { label: link.label ?? t(`links.kind.${link.kind}`) }))) return;
    try {
      await api('DELETE', `${base}/${encodeURIComponent(link.id)}`);
    } catch (e) {
      if (e.code !== 'not_found') return setError(e); // gone already: it is revoked either way
    }
    setLinks((l) => l.filter((x) => x.id !== link.id));
    setMade((m) => (m[link.kind]?.id === link.id ? { ...m, [link.kind]: null } : m));
    announce(t('links.revoked'));
    focusSoon(`#${link.kind}-h`);
  };
  const ofKind = (kind) => (links ?? []).filter((l) => l.kind === kind);
  return { loaded: links !== null, ofKind, made, busy, create, revoke };
}

/** Copies text; when the browser refuses the clipboard, selects it in its field so Ctrl+C copies it. */
export async function copyText(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    announce(t('links.copied'));
    return true;
  } catch {
    field?.select();
    announce(t('links.copySelect'));
    return false;
  }
}
