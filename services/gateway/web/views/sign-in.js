// Signing in without a password: the email address, then the 6-digit code from the mail. The mail's
// one-click link is the other way in (verify-link.js). Afterwards the family goes back to `next`.
import { api } from '../lib/api.js';
import { getLang, t } from '../lib/i18n.js';
import { announce, focusSoon, setTitle, useHeadingFocus } from '../lib/page.js';
import { flash, signedIn, useAccount } from '../lib/session.js';
import { html, useEffect, useRef, useState } from '../lib/ui.js';
import { Field, Problem, withEmail } from './auth-words.js';

// Enough to catch a slip (no @, a space); the server has the last word (422).
const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function EmailStep({ email, setEmail, onSent, notice }) {
  const [fieldError, setFieldError] = useState(null);
  const [problem, setProblem] = useState(null);
  const [sending, setSending] = useState(false);

  const submit = async (ev) => {
    ev.preventDefault();
    setProblem(null);
    const address = email.trim();
    if (!EMAIL_RE.test(address)) {
      setFieldError(t('auth.errEmail'));
      return focusSoon('#f-email');
    }
    setSending(true);
    try {
      const r = await api('POST', '/auth/sign-in', { email: address });
      onSent(r.email);
    } catch (e) {
      setSending(false);
      if (e.code === 'validation_failed') {
        setFieldError(t('auth.errEmail'));
        focusSoon('#f-email');
      } else setProblem(e);
    }
  };

  return html`
    <div class="page-head"><div><h1 tabindex="-1">${t('auth.signInTitle')}</h1><p class="lead">${t('auth.signInIntro')}</p></div></div>
    ${notice}
    <form class="panel form sign-in" novalidate onSubmit=${submit}>
      <${Field} id="f-email" name="email" type="email" label=${t('auth.email')} hint=${t('auth.emailHint')} error=${fieldError} value=${email}
        autocomplete="email" inputmode="email" autocapitalize="off" spellcheck="false" maxlength="254" required
        onInput=${(e) => {
          setEmail(e.currentTarget.value);
          setFieldError(null);
        }} />
      <${Problem} error=${problem} onClose=${() => setProblem(null)} />
      <div class="actions">
        <button type="submit" class="btn btn-primary" id="send-code" disabled=${sending}>${sending ? t('auth.sending') : t('auth.sendCode')}</button>
      </div>
    </form>`;
}

function CodeStep({ email, next, onOtherEmail }) {
  const [code, setCode] = useState('');
  const [fieldError, setFieldError] = useState(null);
  const [problem, setProblem] = useState(null);
  const [busy, setBusy] = useState(false);
  const [resent, setResent] = useState(false);

  const verify = async (ev) => {
    ev.preventDefault();
    setProblem(null);
    // People paste "123 456" or "123-456": only the digits count.
    const digits = code.replace(/[\s-]/g, '');
    if (!/^\d{6}$/.test(digits)) {
      setFieldError(t('auth.errCodeFormat'));
      return focusSoon('#f-code');
    }
    setBusy(true);
    try {
      const r = await api('POST', '/auth/verify', { email, code: digits });
      announce(t('auth.signedIn', { email: r.account.email }));
      signedIn(r.account, next);
    } catch (e) {
      setBusy(false);
      if (e.code === 'unauthenticated' || e.code === 'validation_failed') {
        setFieldError(t('auth.errCode'));
        focusSoon('#f-code');
      } else setProblem(e);
    }
  };

  const resend = async () => {
    setProblem(null);
    setFieldError(null);
    setBusy(true);
    try {
      await api('POST', '/auth/sign-in', { email });
      setResent(true);
      setCode('');
      announce(t('auth.resent', { email }));
      focusSoon('#f-code');
    } catch (e) {
      setProblem(e);
    }
    setBusy(false);
  };

  return html`
    <div class="page-head"><div>
      <h1 tabindex="-1">${t('auth.codeTitle')}</h1>
      <p class="lead" id="code-sent">${withEmail('auth.codeSent', email)}</p>
      <p>${t('auth.codeIntro')}</p>
    </div></div>
    <form class="panel form sign-in" novalidate onSubmit=${verify}>
      ${resent ? html`<div class="notice notice-info" id="code-resent"><p>${withEmail('auth.resent', email)}</p></div>` : ''}
      <${Field} id="f-code" name="code" type="text" label=${t('auth.code')} hint=${t('auth.codeHint')} error=${fieldError} value=${code}
        class="code-input" autocomplete="one-time-code" inputmode="numeric" maxlength="11" required
        onInput=${(e) => {
          setCode(e.currentTarget.value);
          setFieldError(null);
        }} />
      <${Problem} error=${problem} onClose=${() => setProblem(null)} />
      <div class="actions">
        <button type="submit" class="btn btn-primary" id="verify-code" disabled=${busy}>${busy ? t('auth.verifying') : t('auth.verify')}</button>
        <button type="button" class="btn" id="resend-code" disabled=${busy} onClick=${resend}>${t('auth.resend')}</button>
        <button type="button" class="btn btn-quiet" id="other-email" onClick=${onOtherEmail}>${t('auth.otherEmail')}</button>
      </div>
    </form>`;
}

/** #/sign-in[?next=…][&email=…]: the email step, then the code step; an account already known goes straight on. */
export function SignInView({ next, presetEmail }) {
  const account = useAccount();
  const [email, setEmail] = useState(presetEmail ?? '');
  const [sentTo, setSentTo] = useState(null);
  // Said once, on the view that follows signing out; otherwise why the family is here, if sent.
  const [signedOut] = useState(() => {
    const was = flash.signedOut;
    flash.signedOut = false;
    return was;
  });
  const gone = useRef(false);
  useEffect(() => {
    if (account && !gone.current) {
      gone.current = true;
      signedIn(account, next);
    }
  }, [account]);
  useEffect(() => setTitle(sentTo ? t('auth.codeTitle') : t('auth.signInTitle')), [sentTo, getLang()]);
  useHeadingFocus(true);

  if (sentTo) {
    const other = () => {
      setSentTo(null);
      focusSoon('#f-email');
    };
    return html`<${CodeStep} email=${sentTo} next=${next} onOtherEmail=${other} />`;
  }
  const why = signedOut ? t('auth.signedOut') : next ? t('auth.needed') : null;
  const notice = why ? html`<div class="notice notice-info" id="sign-in-why"><p>${why}</p></div>` : null;
  const sent = (address) => {
    setEmail(address);
    setSentTo(address);
    announce(t('auth.codeSent', { email: address }));
    // The new step's heading takes the focus, so a screen reader starts at "Check your email".
    focusSoon('#main h1');
  };
  return html`<${EmailStep} email=${email} setEmail=${setEmail} onSent=${sent} notice=${notice} />`;
}
