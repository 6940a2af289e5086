// `node --import ./tooling/reliability/loader/register.mjs app.ts`: installs the hooks of hooks.mjs. The mode comes
// from ISCSI_TS_PACKAGES ("src": workspace sources, the default; "dist": built packages).
import { register } from 'node:module'

const mode = process.env.ISCSI_TS_PACKAGES === 'dist' ? 'dist' : 'src'
register('./hooks.mjs', import.meta.url, { data: { mode } })
