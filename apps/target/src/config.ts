// The configuration of iscsi-target: one zod schema for the config file (YAML or JSON) and for the flags (cli.ts
// turns them into the same input), a loader, and the error formatting that names the path of every bad field
// (`targets[0].luns[1].size: expected a size like 10G`). Relative paths resolve against the config file's folder
// (the working directory for flags); secrets may be inline, `{ env: NAME }` or `{ file: PATH }` and are resolved here,
// so the rest of the app only ever sees strings.
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import { dirname, extname, resolve } from 'node:path'
import { parseDocument } from 'yaml'
import { z } from 'zod'
import { type HostPort, ISCSI_PORT, formatHostPort, parseHostPort } from './address.js'
import { type ConfigIssue, ConfigError } from './errors.js'
import { parseDuration, parseSize } from './units.js'

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof LOG_LEVELS)[number]

export const BLOCK_SIZES = [512, 4096] as const
export const CHAP_ALGORITHMS = ['MD5', 'SHA1', 'SHA-256', 'SHA3-256'] as const
export type ChapAlgorithm = (typeof CHAP_ALGORITHMS)[number]
export type Digest = 'CRC32C' | 'None'

/** The default target of `iscsi-target` with no arguments. */
export const DEFAULT_IQN = 'iqn.2026-11.io.iscsi-ts:default'
/** The default portal: loopback only, so a first run never exposes a disk to the network. */
export const DEFAULT_PORTAL: HostPort = { host: '127.0.0.1', port: ISCSI_PORT }
/** The data folder when neither `--data`, `dataDir` nor `$ISCSI_TS_DATA` says otherwise (relative to the cwd). */
export const DEFAULT_DATA_DIR = '.iscsi-ts'

// RFC 7143 13.12-13.14: MaxRecvDataSegmentLength, MaxBurstLength and FirstBurstLength range over 512..2^24-1.
const SEGMENT_MIN = 512
const SEGMENT_MAX = 2 ** 24 - 1
// SAM-5 4.7.7 flat space addressing reaches LUN 16383.
const LUN_MAX = 16383
// RFC 7143 4.2.7.1: an iSCSI name is at most 223 bytes.
const NAME_MAX = 223
// Secrets: RFC 7143 12.1.3 requires IPsec when a CHAP secret has fewer than 96 random bits; refuse such secrets.
const SECRET_MIN = 12
const SECRET_MAX = 255
const HOUR_MS = 3_600_000

// ---------------------------------------------------------------------------------------------------------------
// The resolved configuration (what the schema outputs, what build.ts and server.ts consume)

export interface ChapCredentialsConfig {
  readonly user: string
  readonly secret: string
}
export interface AuthSettings {
  readonly chap?: ChapCredentialsConfig
  readonly mutual?: ChapCredentialsConfig
  readonly algorithms?: ChapAlgorithm[]
}
interface LunCommon {
  readonly lun: number
  readonly readOnly: boolean
  readonly thinProvisioning: boolean
  readonly removable: boolean
  readonly serial?: string
  readonly blockSize: number
  /** LOGICAL BLOCKS PER PHYSICAL BLOCK EXPONENT (SBC-3 5.16): 3 reports 512-byte blocks on 4 KiB physical blocks. */
  readonly physicalBlockExponent?: number
  /** Bytes per second a SANITIZE writes at most (absent: as fast as the backstore takes them). */
  readonly sanitizeThroughput?: number
}
export interface FileLunConfig extends LunCommon {
  readonly backstore: 'file'
  /** Absolute path of the image file (or block device). */
  readonly path: string
  /** Bytes; creates a missing file of this size (sparse) and grows a smaller one. Absent: use the file as it is. */
  readonly size?: number
}
export interface MemoryLunConfig extends LunCommon {
  readonly backstore: 'memory'
  readonly size: number
}
export type LunConfig = FileLunConfig | MemoryLunConfig

export interface AclSettings {
  readonly initiator: string
  /** initiator-visible LUN -> target LUN; absent: every LUN under its own number. */
  readonly luns?: Record<number, number>
  readonly auth?: AuthSettings
}
export interface TargetSettings {
  readonly name: string
  readonly alias?: string
  readonly portalGroups: number[]
  readonly luns: LunConfig[]
  readonly acls: AclSettings[]
  readonly auth?: AuthSettings
}
export interface PortalGroupSettings {
  readonly tag: number
  readonly portals: HostPort[]
}
export interface LimitSettings {
  readonly maxRecvDataSegmentLength?: number
  readonly maxBurstLength?: number
  readonly firstBurstLength?: number
  readonly maxOutstandingR2T?: number
  readonly maxConnections?: number
  readonly immediateData?: boolean
  readonly initialR2T?: boolean
  readonly headerDigest?: Digest[]
  readonly dataDigest?: Digest[]
  readonly queueDepth?: number
  readonly maxSessions?: number
  readonly maxConnectionsPerInitiatorAddress?: number
  readonly maxDataTransferLength?: number
  readonly maxPendingWriteBytes?: number
  readonly sendHighWaterMark?: number
}
export interface TimerSettings {
  readonly loginTimeoutMs?: number
  readonly nopInIntervalMs?: number
  readonly nopInTimeoutMs?: number
  readonly shutdownTimeoutMs: number
}
/** A validated configuration with every default applied, paths absolute and secrets resolved. */
export interface ServerConfig {
  readonly logLevel: LogLevel
  readonly dataDir: string
  readonly metrics?: HostPort
  readonly portalGroups: PortalGroupSettings[]
  readonly targets: TargetSettings[]
  readonly discoveryAuth?: AuthSettings
  readonly limits: LimitSettings
  readonly timers: TimerSettings
}

/** What the schema resolves against. */
export interface ConfigContext {
  /** Relative paths (file backstores, secret files, dataDir) resolve against this folder. */
  readonly baseDir: string
  /** Environment for `{ env: NAME }` secrets. */
  readonly env: Readonly<Record<string, string | undefined>>
  /** Data folder when the configuration names none (absolute, or relative to baseDir). */
  readonly defaultDataDir: string
  /** Reads a `{ file: PATH }` secret (defaults to fs.readFileSync). */
  readonly readSecretFile?: (path: string) => string
}

// ---------------------------------------------------------------------------------------------------------------
// Field parsers: unknown in, a value or the message that names what was expected

type Parsed<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly message: string }
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value })
const fail = (message: string): Parsed<never> => ({ ok: false, message })

/** A schema from a parse function; `undefined` input means the field is required. */
function field<T>(parse: (input: unknown) => Parsed<T>, requiredMessage = 'required') {
  return z.unknown().transform((input, ctx): T => {
    const result = input === undefined ? fail(requiredMessage) : parse(input)
    if (result.ok) return result.value
    ctx.addIssue({ code: 'custom', message: result.message })
    return z.NEVER
  })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const sizeField = (min: number, max: number = Number.MAX_SAFE_INTEGER) =>
  field((input) => {
    const bytes = typeof input === 'string' || typeof input === 'number' ? parseSize(input) : undefined
    if (bytes === undefined) return fail('expected a size like 10G')
    if (bytes < min) return fail(`must be at least ${min} bytes`)
    if (bytes > max) return fail(`must be at most ${max} bytes`)
    return ok(bytes)
  }, 'required: a size like 10G')

/** RFC 7143 13.12-13.14 sizes; `16M` (2^24) is read as the RFC maximum 2^24-1 since that is what people write. */
const segmentField = () =>
  field((input) => {
    const bytes = typeof input === 'string' || typeof input === 'number' ? parseSize(input) : undefined
    if (bytes === undefined) return fail('expected a size like 256K')
    if (bytes < SEGMENT_MIN || bytes > SEGMENT_MAX + 1) return fail(`must be ${SEGMENT_MIN} to ${SEGMENT_MAX} bytes (RFC 7143 13.12)`)
    return ok(Math.min(bytes, SEGMENT_MAX))
  })

const durationField = (min = 0, max = HOUR_MS) =>
  field((input) => {
    const ms = typeof input === 'string' || typeof input === 'number' ? parseDuration(input) : undefined
    if (ms === undefined) return fail('expected a duration like 15s, 500ms or 2m')
    if (ms < min) return fail(`must be at least ${min} ms`)
    if (ms > max) return fail(`must be at most ${max / 60_000} minutes`)
    return ok(ms)
  })

const intField = (min: number, max: number) =>
  z
    .number({ error: `expected an integer from ${min} to ${max}` })
    .int({ error: `expected an integer from ${min} to ${max}` })
    .min(min, { error: `expected an integer from ${min} to ${max}` })
    .max(max, { error: `expected an integer from ${min} to ${max}` })

const IQN_PATTERN = /^iqn\.\d{4}-(?:0[1-9]|1[0-2])\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[a-z0-9.:_-]+)?$/
const EUI_PATTERN = /^eui\.[0-9a-f]{16}$/
const NAA_PATTERN = /^naa\.(?:[0-9a-f]{16}|[0-9a-f]{32})$/

/** An iSCSI name (RFC 7143 4.2.7): iqn., eui. or naa. form; case-folded as RFC 3722 stringprep does. */
export function parseIscsiName(input: string): string | undefined {
  const name = input.trim().toLowerCase()
  if (Buffer.byteLength(name) > NAME_MAX) return undefined
  return IQN_PATTERN.test(name) || EUI_PATTERN.test(name) || NAA_PATTERN.test(name) ? name : undefined
}

const NAME_EXPECTED = 'expected an iSCSI name like iqn.2026-11.com.example:disk1 (or eui./naa. form)'
const iscsiNameField = (allowAny = false) =>
  field((input) => {
    if (allowAny && input === '*') return ok('*')
    const name = typeof input === 'string' ? parseIscsiName(input) : undefined
    return name === undefined ? fail(allowAny ? `${NAME_EXPECTED}, or "*"` : NAME_EXPECTED) : ok(name)
  })

/** A portal: `IP:PORT`, `[IPv6]:PORT` or `{ host, port }`; the port defaults to 3260. Portals bind to IP addresses. */
const portalField = () =>
  field((input): Parsed<HostPort> => {
    let portal: HostPort
    if (typeof input === 'string') {
      const parsed = parseHostPort(input, ISCSI_PORT)
      if (typeof parsed === 'string') return fail(`expected IP:PORT like 0.0.0.0:3260 or [::]:3260 (${parsed})`)
      portal = parsed
    } else if (isRecord(input) && typeof input.host === 'string' && (input.port === undefined || typeof input.port === 'number')) {
      portal = { host: input.host, port: input.port ?? ISCSI_PORT }
      if (!Number.isInteger(portal.port) || portal.port < 0 || portal.port > 65535) return fail('port must be 0 to 65535')
    } else {
      return fail('expected IP:PORT like 0.0.0.0:3260 or { host, port }')
    }
    if (isIP(portal.host) === 0) return fail(`"${portal.host}" is not an IP address (portals bind to addresses like 127.0.0.1, 0.0.0.0 or ::)`)
    return ok(portal)
  })

/** The metrics endpoint: `HOST:PORT` or `{ listen: HOST:PORT }`. */
const listenField = () =>
  field((input): Parsed<HostPort> => {
    const text = isRecord(input) && Object.keys(input).length === 1 ? input.listen : input
    if (typeof text !== 'string') return fail('expected HOST:PORT like 127.0.0.1:9100, or { listen: HOST:PORT }')
    const parsed = parseHostPort(text)
    return typeof parsed === 'string' ? fail(`expected HOST:PORT like 127.0.0.1:9100 (${parsed})`) : ok(parsed)
  })

/** A secret: inline, `{ env: NAME }` or `{ file: PATH }` (one trailing newline of the file is dropped). */
const secretField = (context: ConfigContext) =>
  field((input): Parsed<string> => {
    let secret: string
    if (typeof input === 'string') {
      secret = input
    } else if (isRecord(input) && Object.keys(input).length === 1 && typeof input.env === 'string') {
      const value = context.env[input.env]
      if (value === undefined || value === '') return fail(`environment variable ${input.env} is not set`)
      secret = value
    } else if (isRecord(input) && Object.keys(input).length === 1 && typeof input.file === 'string') {
      const path = resolve(context.baseDir, input.file)
      try {
        secret = (context.readSecretFile ?? ((p: string) => readFileSync(p, 'utf8')))(path).replace(/\r?\n$/, '')
      } catch (error) {
        const code = isRecord(error) && typeof error.code === 'string' ? error.code : 'unreadable'
        return fail(`cannot read secret file ${path} (${code})`)
      }
    } else {
      return fail('expected a secret: a string, { env: NAME } or { file: PATH }')
    }
    if (secret.length < SECRET_MIN) return fail(`must be at least ${SECRET_MIN} characters (96 bits, RFC 7143 12.1.3)`)
    if (secret.length > SECRET_MAX) return fail(`must be at most ${SECRET_MAX} characters`)
    return ok(secret)
  }, 'required: a string, { env: NAME } or { file: PATH }')

const digestField = () =>
  field((input): Parsed<Digest[]> => {
    const list = Array.isArray(input) ? input : [input]
    const digests: Digest[] = []
    for (const item of list) {
      const name = typeof item === 'string' ? item.toLowerCase() : undefined
      if (name === 'crc32c') digests.push('CRC32C')
      else if (name === 'none') digests.push('None')
      else return fail('expected CRC32C, None, or a list of them in preference order')
    }
    if (digests.length === 0 || new Set(digests).size !== digests.length) return fail('expected CRC32C, None, or both once each')
    return ok(digests)
  })

const serialField = () =>
  field((input) =>
    typeof input === 'string' && /^[\x21-\x7e]{1,64}$/.test(input) ? ok(input) : fail('expected 1 to 64 printable ASCII characters without spaces'),
  )

const lunMapField = () =>
  field((input): Parsed<Record<number, number>> => {
    if (!isRecord(input)) return fail('expected a map of initiator LUN to target LUN, like { 0: 2 }')
    const map: Record<number, number> = {}
    for (const [key, value] of Object.entries(input)) {
      const from = /^\d+$/.test(key) ? Number(key) : NaN
      if (!(from <= LUN_MAX)) return fail(`"${key}" is not a LUN number (0-${LUN_MAX})`)
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > LUN_MAX) {
        return fail(`LUN ${key} must map to a LUN number (0-${LUN_MAX})`)
      }
      map[from] = value
    }
    return ok(map)
  })

// ---------------------------------------------------------------------------------------------------------------
// The schema

function authSchema(context: ConfigContext) {
  const credentials = z.strictObject({
    user: z
      .string({ error: 'expected a CHAP user name' })
      .min(1, { error: 'expected a CHAP user name' })
      .max(255, { error: 'must be at most 255 characters' })
      .regex(/^[^\s:]+$/, { error: 'must not contain spaces or ":"' }),
    secret: secretField(context),
  })
  return z
    .strictObject({
      chap: credentials.optional(),
      mutual: credentials.optional(),
      algorithms: z.array(z.enum(CHAP_ALGORITHMS)).min(1).optional(),
    })
    .superRefine((auth, ctx) => {
      if (auth.mutual !== undefined && auth.chap === undefined) {
        ctx.addIssue({ code: 'custom', path: ['mutual'], message: 'mutual CHAP needs one-way chap too (the target authenticates the initiator first)' })
      }
      if (auth.mutual !== undefined && auth.chap !== undefined && auth.mutual.secret === auth.chap.secret) {
        ctx.addIssue({ code: 'custom', path: ['mutual', 'secret'], message: 'must differ from the chap secret (RFC 7143 12.1.3)' })
      }
    })
}

const lunCommonShape = {
  lun: intField(0, LUN_MAX).optional(),
  blockSize: z.literal(BLOCK_SIZES, { error: `expected a block size of ${BLOCK_SIZES.join(' or ')}` }).default(512),
  readOnly: z.boolean().default(false),
  thinProvisioning: z.boolean().default(true),
  removable: z.boolean().default(false),
  serial: serialField().optional(),
  physicalBlockExponent: intField(0, 15).optional(),
  sanitizeThroughput: sizeField(1).optional(),
}

function lunSchema(context: ConfigContext) {
  const fileLun = z.strictObject({
    ...lunCommonShape,
    backstore: z.literal('file'),
    path: z
      .string({ error: 'expected the path of an image file' })
      .min(1, { error: 'expected the path of an image file' })
      .transform((path) => resolve(context.baseDir, path)),
    size: sizeField(512).optional(),
  })
  const memoryLun = z.strictObject({
    ...lunCommonShape,
    backstore: z.literal('memory'),
    size: sizeField(512),
  })
  return z
    .preprocess(
      // `backstore` defaults to `file`: most LUNs are image files.
      (input) => (isRecord(input) && input.backstore === undefined ? { ...input, backstore: 'file' } : input),
      z.discriminatedUnion('backstore', [fileLun, memoryLun], { error: 'expected backstore "file" or "memory"' }),
    )
    .superRefine((lun, ctx) => {
      if (lun.size !== undefined && lun.size % lun.blockSize !== 0) {
        ctx.addIssue({ code: 'custom', path: ['size'], message: `must be a multiple of the block size (${lun.blockSize})` })
      }
    })
}

function targetSchema(context: ConfigContext) {
  const auth = authSchema(context)
  return z.strictObject({
    name: iscsiNameField(),
    alias: z.string().min(1).max(255).optional(),
    portalGroups: z.array(intField(1, 65535)).min(1).optional(),
    luns: z.array(lunSchema(context)).default([]),
    acls: z
      .array(
        z.strictObject({
          initiator: iscsiNameField(true),
          luns: lunMapField().optional(),
          auth: auth.optional(),
        }),
      )
      .default([]),
    auth: auth.optional(),
  })
}

const limitsSchema = z
  .strictObject({
    maxRecvDataSegmentLength: segmentField().optional(),
    maxBurstLength: segmentField().optional(),
    firstBurstLength: segmentField().optional(),
    maxOutstandingR2T: intField(1, 65535).optional(),
    maxConnections: intField(1, 65535).optional(),
    immediateData: z.boolean().optional(),
    initialR2T: z.boolean().optional(),
    headerDigest: digestField().optional(),
    dataDigest: digestField().optional(),
    queueDepth: intField(1, 65536).optional(),
    maxSessions: intField(1, 65535).optional(),
    maxConnectionsPerInitiatorAddress: intField(1, 1_000_000).optional(),
    // Resource bounds of @iscsi-ts/target beyond the RFC keys.
    maxDataTransferLength: sizeField(512, 2 ** 32 - 1).optional(),
    maxPendingWriteBytes: sizeField(512).optional(),
    sendHighWaterMark: sizeField(65536).optional(),
  })
  .superRefine((limits, ctx) => {
    // RFC 7143 13.14: FirstBurstLength MUST NOT exceed MaxBurstLength.
    if (limits.firstBurstLength !== undefined && limits.firstBurstLength > (limits.maxBurstLength ?? SEGMENT_MAX)) {
      ctx.addIssue({ code: 'custom', path: ['firstBurstLength'], message: 'must not exceed maxBurstLength (RFC 7143 13.14)' })
    }
  })

const timersSchema = z.strictObject({
  loginTimeout: durationField(1000).optional(),
  nopInInterval: durationField().optional(),
  nopInTimeout: durationField(1000).optional(),
  shutdownTimeout: durationField(0, 10 * 60_000).optional(),
})

/** The config file schema, bound to where relative paths and secrets resolve. */
export function configSchema(context: ConfigContext) {
  return z
    .strictObject({
      logLevel: z.enum(LOG_LEVELS).optional(),
      dataDir: z.string().min(1).optional(),
      metrics: listenField().optional(),
      portals: z.array(portalField()).min(1).optional(),
      portalGroups: z
        .array(z.strictObject({ tag: intField(1, 65535), portals: z.array(portalField()).min(1) }))
        .min(1)
        .optional(),
      targets: z.array(targetSchema(context)).min(1, { error: 'expected at least one target' }),
      discoveryAuth: authSchema(context).optional(),
      limits: limitsSchema.default({}),
      timers: timersSchema.default({}),
    })
    .superRefine((config, ctx) => {
      const issue = (path: PropertyKey[], message: string) => ctx.addIssue({ code: 'custom', path, message })
      if (config.portals !== undefined && config.portalGroups !== undefined) {
        issue(['portals'], 'use either portals or portalGroups, not both')
      }
      // Portal group tags unique; a portal in one group only.
      const tags = new Map<number, number>()
      const portals = new Map<string, string>()
      config.portalGroups?.forEach((group, g) => {
        if (tags.has(group.tag)) issue(['portalGroups', g, 'tag'], `duplicate portal group tag ${group.tag}`)
        tags.set(group.tag, g)
        group.portals.forEach((portal, p) => {
          const key = formatHostPort(portal)
          const other = portals.get(key)
          if (other !== undefined && portal.port !== 0) issue(['portalGroups', g, 'portals', p], `${key} is already in ${other}`)
          portals.set(key, `portalGroups[${g}].portals[${p}]`)
        })
      })
      const knownTags = config.portalGroups === undefined ? new Set([1]) : new Set(tags.keys())
      const names = new Map<string, number>()
      const files = new Map<string, string>()
      const chapSecrets = new Set<string>()
      const mutualSecrets: Array<{ path: PropertyKey[]; secret: string }> = []
      const collectAuth = (auth: AuthSettings | undefined, path: PropertyKey[]) => {
        if (auth?.chap !== undefined) chapSecrets.add(auth.chap.secret)
        if (auth?.mutual !== undefined) mutualSecrets.push({ path: [...path, 'mutual', 'secret'], secret: auth.mutual.secret })
      }
      collectAuth(config.discoveryAuth, ['discoveryAuth'])
      config.targets.forEach((target, t) => {
        const other = names.get(target.name)
        if (other !== undefined) issue(['targets', t, 'name'], `duplicate target name (also targets[${other}])`)
        names.set(target.name, t)
        target.portalGroups?.forEach((tag, i) => {
          if (!knownTags.has(tag)) issue(['targets', t, 'portalGroups', i], `no portal group with tag ${tag}`)
        })
        const luns = new Map<number, number>()
        target.luns.forEach((lun, l) => {
          const number = lun.lun ?? l
          const previous = luns.get(number)
          if (previous !== undefined) issue(['targets', t, 'luns', l, 'lun'], `duplicate LUN ${number} (also luns[${previous}])`)
          luns.set(number, l)
          if (lun.backstore === 'file') {
            const first = files.get(lun.path)
            if (first !== undefined) issue(['targets', t, 'luns', l, 'path'], `same file as ${first}`)
            files.set(lun.path, `targets[${t}].luns[${l}]`)
          }
        })
        collectAuth(target.auth, ['targets', t, 'auth'])
        const initiators = new Set<string>()
        target.acls.forEach((acl, a) => {
          if (initiators.has(acl.initiator)) issue(['targets', t, 'acls', a, 'initiator'], `duplicate ACL for ${acl.initiator}`)
          initiators.add(acl.initiator)
          for (const [from, to] of Object.entries(acl.luns ?? {})) {
            if (!luns.has(to)) issue(['targets', t, 'acls', a, 'luns', from], `target has no LUN ${to}`)
          }
          collectAuth(acl.auth, ['targets', t, 'acls', a, 'auth'])
        })
      })
      // RFC 7143 12.1.3: a secret that authenticates initiators MUST NOT also authenticate a target.
      for (const { path, secret } of mutualSecrets) {
        if (chapSecrets.has(secret)) issue(path, 'must differ from every initiator (chap) secret (RFC 7143 12.1.3)')
      }
    })
    .transform((config): ServerConfig => {
      const portalGroups = config.portalGroups ?? [{ tag: 1, portals: config.portals ?? [DEFAULT_PORTAL] }]
      const allTags = portalGroups.map((group) => group.tag)
      const metrics = config.metrics
      const { shutdownTimeout, loginTimeout, nopInInterval, nopInTimeout } = config.timers
      return {
        logLevel: config.logLevel ?? 'info',
        dataDir: resolve(context.baseDir, config.dataDir ?? context.defaultDataDir),
        ...(metrics === undefined ? {} : { metrics }),
        portalGroups,
        targets: config.targets.map(
          (target): TargetSettings => ({
            name: target.name,
            ...(target.alias === undefined ? {} : { alias: target.alias }),
            portalGroups: target.portalGroups ?? allTags,
            luns: target.luns.map((lun, index): LunConfig => ({ ...lun, lun: lun.lun ?? index })),
            acls: target.acls,
            ...(target.auth === undefined ? {} : { auth: target.auth }),
          }),
        ),
        ...(config.discoveryAuth === undefined ? {} : { discoveryAuth: config.discoveryAuth }),
        limits: config.limits,
        timers: {
          shutdownTimeoutMs: shutdownTimeout ?? 10_000,
          ...(loginTimeout === undefined ? {} : { loginTimeoutMs: loginTimeout }),
          ...(nopInInterval === undefined ? {} : { nopInIntervalMs: nopInInterval }),
          ...(nopInTimeout === undefined ? {} : { nopInTimeoutMs: nopInTimeout }),
        },
      }
    })
}

/** What a config file or the flags may contain, before validation. */
export type ConfigInput = z.input<ReturnType<typeof configSchema>>

// ---------------------------------------------------------------------------------------------------------------
// Error formatting

/** `['targets', 0, 'luns', 1, 'size']` -> `targets[0].luns[1].size`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const segment of path) {
    if (typeof segment === 'number' || (typeof segment === 'string' && /^\d+$/.test(segment))) out += `[${String(segment)}]`
    else if (typeof segment === 'string' && /^[A-Za-z_$][\w$]*$/.test(segment)) out += out === '' ? segment : `.${segment}`
    else out += `[${JSON.stringify(String(segment))}]`
  }
  return out
}

/** zod issues as `{ path, message }`, one per unknown key; never includes the offending input (it may be a secret). */
export function configIssues(error: z.ZodError): ConfigIssue[] {
  const issues: ConfigIssue[] = []
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) issues.push({ path: formatPath([...issue.path, key]), message: 'unknown key' })
    } else {
      issues.push({ path: formatPath(issue.path), message: issue.message })
    }
  }
  return issues
}

// ---------------------------------------------------------------------------------------------------------------
// Loading

/** Validate an already-parsed config object (from a file or from the flags). Throws ConfigError. */
export function parseConfig(input: unknown, context: ConfigContext, source?: string): ServerConfig {
  const result = configSchema(context).safeParse(input)
  if (!result.success) throw new ConfigError(configIssues(result.error), source)
  return result.data
}

/** Parse config text: JSON for a `.json` file, YAML (a superset of JSON) otherwise. Throws ConfigError. */
export function parseConfigText(text: string, source: string): unknown {
  if (extname(source).toLowerCase() === '.json') {
    try {
      return JSON.parse(text) as unknown
    } catch (error) {
      throw new ConfigError([{ path: '', message: `not valid JSON: ${(error as Error).message}` }], source)
    }
  }
  const document = parseDocument(text, { prettyErrors: true, uniqueKeys: true })
  if (document.errors.length > 0) {
    throw new ConfigError(
      document.errors.map((error) => ({ path: '', message: `not valid YAML: ${error.message.split('\n')[0] ?? error.code}` })),
      source,
    )
  }
  return document.toJS({ maxAliasCount: 100 }) as unknown
}

export interface LoadConfigOptions {
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Folder `$ISCSI_TS_DATA`/default data folders are relative to (default: process.cwd()). */
  readonly cwd?: string
  /** Applied to the parsed file before validation (command-line overrides such as --listen). */
  readonly override?: (input: Record<string, unknown>) => Record<string, unknown>
}

/** The data folder when the config names none: `$ISCSI_TS_DATA` or `./.iscsi-ts`, from the working directory. */
export function defaultDataDir(env: Readonly<Record<string, string | undefined>>, cwd: string): string {
  const fromEnv = env.ISCSI_TS_DATA
  return resolve(cwd, fromEnv !== undefined && fromEnv !== '' ? fromEnv : DEFAULT_DATA_DIR)
}

/** Read, parse and validate a YAML or JSON config file. Throws ConfigError (exit code 2) for every problem. */
export async function loadConfig(path: string, options: LoadConfigOptions = {}): Promise<ServerConfig> {
  const env = options.env ?? process.env
  const cwd = options.cwd ?? process.cwd()
  const file = resolve(cwd, path)
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = isRecord(error) && typeof error.code === 'string' ? error.code : 'unreadable'
    throw new ConfigError([{ path: '', message: `cannot read the file (${code})` }], file, { cause: error })
  }
  let input = parseConfigText(text, file)
  if (input === null || input === undefined) input = {}
  if (!isRecord(input)) throw new ConfigError([{ path: '', message: 'expected a mapping of settings at the top level' }], file)
  if (options.override !== undefined) input = options.override(input)
  return parseConfig(input, { baseDir: dirname(file), env, defaultDataDir: defaultDataDir(env, cwd) }, file)
}
