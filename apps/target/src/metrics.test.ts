import { channel } from 'node:diagnostics_channel'
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { Channel } from './events.js'
import { type MetricsServer, ServerMetrics, labelValue, startMetricsServer } from './metrics.js'

function get(url: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }))
    })
    req.on('error', reject)
    req.end()
  })
}

const target = {
  stats: { sessions: 3, connections: 4 },
  sessions: () => [
    { type: 'Normal', targetName: 'iqn.2026-11.com.example:a' },
    { type: 'Normal', targetName: 'iqn.2026-11.com.example:a' },
    { type: 'Discovery', targetName: '' },
  ],
}

let stop: (() => void) | undefined
let server: MetricsServer | undefined
afterEach(async () => {
  stop?.()
  stop = undefined
  await server?.close()
  server = undefined
})

describe('ServerMetrics', () => {
  it('counts commands, bytes, latency, logins, failures, errors; reads sessions and connections at scrape time', async () => {
    const metrics = new ServerMetrics({ source: () => target, defaultMetrics: false })
    stop = metrics.subscribe()
    const command = { targetName: 'iqn.2026-11.com.example:a', lun: 0 }
    channel(Channel.command).publish({ ...command, opcode: 0x28, bytesIn: 0, bytesOut: 4096, durationNs: 200_000, status: 0 })
    channel(Channel.command).publish({ ...command, opcode: 0x2a, bytesIn: 8192, bytesOut: 0, durationNs: 3_000_000, status: 0 })
    channel(Channel.command).publish({ ...command, opcode: 0x2a, bytesIn: 512, bytesOut: 0, durationNs: 1_000, status: 2 })
    channel(Channel.login).publish({ event: 'success', type: 'Normal' })
    channel(Channel.login).publish({ event: 'failure', type: 'Normal', statusClass: 2, statusDetail: 1 })
    channel(Channel.login).publish({ event: 'failure', type: 'Discovery', statusClass: 2, statusDetail: 1 })
    channel(Channel.logout).publish({ reason: 'close-session' })
    channel(Channel.connection).publish({ event: 'open', remote: 'x', local: 'y' })
    channel(Channel.connection).publish({ event: 'close', remote: 'x', local: 'y' })
    channel(Channel.error).publish({ kind: 'digest', message: 'm', code: 'c' })
    metrics.reloads.inc({ result: 'success' })

    const text = await metrics.registry.metrics()
    const t = 'target="iqn.2026-11.com.example:a"'
    expect(text).toContain(`iscsi_commands_total{${t},opcode="0x28",status="0x00"} 1`)
    expect(text).toContain(`iscsi_commands_total{${t},opcode="0x2a",status="0x00"} 1`)
    expect(text).toContain(`iscsi_commands_total{${t},opcode="0x2a",status="0x02"} 1`)
    expect(text).toContain(`iscsi_bytes_in_total{${t}} 8704`)
    expect(text).toContain(`iscsi_bytes_out_total{${t}} 4096`)
    expect(text).toContain(`iscsi_command_duration_seconds_count{${t}} 3`)
    expect(text).toContain(`iscsi_command_duration_seconds_bucket{le="0.00005",${t}} 1`)
    expect(text).toContain(`iscsi_command_duration_seconds_bucket{le="0.00025",${t}} 2`)
    expect(text).toContain('iscsi_logins_total{type="Normal",result="success"} 1')
    expect(text).toContain('iscsi_logins_total{type="Normal",result="failure"} 1')
    expect(text).toContain('iscsi_login_failures_total{status="0x0201"} 2')
    expect(text).toContain('iscsi_logouts_total 1')
    expect(text).toContain('iscsi_connections_opened_total 1')
    expect(text).toContain('iscsi_errors_total{kind="digest"} 1')
    expect(text).toContain('iscsi_config_reloads_total{result="success"} 1')
    expect(text).toContain('iscsi_config_reloads_total{result="failure"} 0')
    expect(text).toContain('iscsi_sessions{type="Normal",target="iqn.2026-11.com.example:a"} 2')
    expect(text).toContain('iscsi_sessions{type="Discovery",target=""} 1')
    expect(text).toContain('iscsi_connections 4')
  })

  it('reports zero sessions and connections before a target exists', async () => {
    const metrics = new ServerMetrics({ defaultMetrics: false })
    const text = await metrics.registry.metrics()
    expect(text).toContain('iscsi_connections 0')
    expect(text).not.toMatch(/^iscsi_sessions\{/m)
  })

  it('labels numbers in hex and bounds string labels', () => {
    expect(labelValue(0x28)).toBe('0x28')
    expect(labelValue(0x2)).toBe('0x02')
    expect(labelValue('READ_10')).toBe('READ_10')
    expect(labelValue('x'.repeat(100))).toHaveLength(64)
    expect(labelValue(undefined)).toBe('unknown')
  })
})

describe('startMetricsServer', () => {
  it('serves /metrics in the Prometheus text format, with the default process metrics', async () => {
    const metrics = new ServerMetrics({ source: () => target })
    server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, metrics.registry)
    expect(server.address.port).toBeGreaterThan(0)
    const base = `http://127.0.0.1:${server.address.port}`
    const response = await get(`${base}/metrics`)
    expect(response.status).toBe(200)
    expect(response.type).toContain('text/plain')
    expect(response.body).toContain('# TYPE iscsi_sessions gauge')
    expect(response.body).toContain('# HELP iscsi_commands_total')
    expect(response.body).toContain('process_cpu_user_seconds_total')
    expect(response.body).toContain('nodejs_eventloop_lag_seconds')
    expect((await get(`${base}/metrics`, 'HEAD')).body).toBe('')
    expect((await get(`${base}/metrics`, 'POST')).status).toBe(405)
    expect((await get(`${base}/`)).body).toContain('/metrics')
    expect((await get(`${base}/other`)).status).toBe(404)
  })

  it('fails with a StartupError when the address is taken', async () => {
    const metrics = new ServerMetrics({ defaultMetrics: false })
    server = await startMetricsServer({ host: '127.0.0.1', port: 0 }, metrics.registry)
    await expect(startMetricsServer({ host: '127.0.0.1', port: server.address.port }, metrics.registry)).rejects.toMatchObject({
      code: 'ISCSI_ERR_STARTUP',
      exitCode: 1,
      message: expect.stringContaining('EADDRINUSE') as unknown,
    })
  })
})
