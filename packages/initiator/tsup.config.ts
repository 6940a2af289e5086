import { preset } from '../../tooling/config/tsup.mjs'

export default preset({"index":"src/index.ts","testing":"src/testing.ts"})
