// The view library in one place: Preact with htm (tagged templates instead of JSX, so no build step).
// The gateway serves these files from node_modules under fixed /vendor/ paths (see src/web.ts).

export { useCallback, useEffect, useMemo, useReducer, useRef, useState } from '/vendor/hooks.js';
export { html, render } from '/vendor/htm-preact.js';
