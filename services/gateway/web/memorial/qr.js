// A link as a QR code, drawn here as SVG from qrcode-generator (the link's key never leaves the
// browser to be drawn). One path of dark modules on a light square with a quiet zone, so any phone
// camera reads it; the image has an accessible name.
import qrcode from '/vendor/qrcode.js';
import { html, useMemo } from '../lib/ui.js';

const QUIET = 4; // modules of light margin the QR specification asks for

/** The dark modules as one SVG path ("M x y h1 v1 h-1 z" per module), and the side in modules. */
export function qrPath(text) {
  const qr = qrcode(0, 'M');
  qr.addData(text);
  qr.make();
  const n = qr.getModuleCount();
  let d = '';
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if (qr.isDark(y, x)) d += `M${x + QUIET} ${y + QUIET}h1v1h-1z`;
  return { d, size: n + 2 * QUIET };
}

export function QrCode({ text, label, id }) {
  const { d, size } = useMemo(() => qrPath(text), [text]);
  return html`<svg class="qr" id=${id} role="img" aria-label=${label} viewBox=${`0 0 ${size} ${size}`} width="200" height="200" shape-rendering="crispEdges" xmlns="http://www.w3.org/2000/svg">
    <rect width=${size} height=${size} fill="#fff" />
    <path d=${d} fill="#000" />
  </svg>`;
}
